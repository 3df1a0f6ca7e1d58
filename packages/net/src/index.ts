export { addressScope } from './address-scope.ts'
export { isNetError, NetError, type NetErrorCode } from './errors.ts'
export {
  DEFAULT_MAX_FRAME_BYTES,
  encodeFrame,
  FLAG_CLOSE,
  FLAG_ERROR,
  FLAG_REPLY_EXPECTED,
  FRAME_HEADER_BYTES,
  type Frame,
  FrameDecoder,
  type FrameDecoderOptions,
  MAX_PORT,
  MIN_PARTIAL_FRAME_BYTES,
} from './frame.ts'
export {
  type FrameLink,
  type FrameReceiver,
  type FrameWireOptions,
  frameWire,
  MAX_ERROR_TEXT_BYTES,
} from './frame-wire.ts'
export {
  DEFAULT_OPEN_TIMEOUT_MS,
  type ExcludeOptions,
  Hub,
  type HubOptions,
  type SurveyOptions,
} from './hub.ts'
export {
  type Answer,
  DEFAULT_HALF_OPEN_TIMEOUT_MS,
  DEFAULT_MAX_PENDING_REPLIES,
  DEFAULT_REPLY_TIMEOUT_MS,
  type Handler,
  isPlug,
  type Plug,
  picoWire,
  type Reply,
  type Send,
  type WireOptions,
} from './plug.ts'
export { rtcConfiguration } from './rtc-ice.ts'
export {
  DEFAULT_MAX_REMOTE_CANDIDATES,
  DEFAULT_RTC_CONNECT_TIMEOUT_MS,
  MAX_CANDIDATE_CHARS,
  MAX_SDP_CHARS,
  RtcPeer,
  type RtcPeerOptions,
  type RtcSignal,
} from './rtc-peer.ts'
export type {
  RtcConfiguration,
  RtcDataChannelLike,
  RtcIceCandidate,
  RtcIceServer,
  RtcPeerConnectionConstructor,
  RtcPeerConnectionLike,
  RtcSessionDescription,
} from './rtc-types.ts'
export {
  DEFAULT_RTC_CHUNK_BYTES,
  DEFAULT_RTC_CLOSE_LINGER_MS,
  DEFAULT_RTC_HIGH_WATER_BYTES,
  DEFAULT_RTC_MAX_QUEUED_BYTES,
  type RtcWireOptions,
  rtcWire,
} from './rtc-wire.ts'
export { type DuplexLike, streamWire } from './stream-wire.ts'
export { VARINT_MAX_BYTES, VARINT_MAX_VALUE } from './varint.ts'
export { type WebSocketLike, wsWire } from './ws-wire.ts'
