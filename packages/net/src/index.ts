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
export { type DuplexLike, streamWire } from './stream-wire.ts'
export { VARINT_MAX_BYTES, VARINT_MAX_VALUE } from './varint.ts'
export { type WebSocketLike, wsWire } from './ws-wire.ts'
