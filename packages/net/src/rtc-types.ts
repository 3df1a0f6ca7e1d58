/**
 * The parts of the WebRTC API that the WebRTC wire uses, as structural types: satisfied by
 * the browser's own `RTCPeerConnection` / `RTCDataChannel` and by node-datachannel's
 * polyfill (`node-datachannel/polyfill`), so net imports neither.
 */

/** One STUN or TURN server (the standard `RTCIceServer`). */
export interface RtcIceServer {
  /** `stun:host:port`, `turn:host:port?transport=udp|tcp` or `turns:host:port`; one or several. */
  urls: string | string[]
  /** TURN user name. */
  username?: string
  /** TURN password. */
  credential?: string
}

/** What the WebRTC wire passes to the `RTCPeerConnection` constructor. */
export interface RtcConfiguration {
  /** STUN / TURN servers; empty: host candidates only (the local network). */
  iceServers: RtcIceServer[]
}

/** A session description (`RTCSessionDescriptionInit`). */
export interface RtcSessionDescription {
  /** `offer` or `answer` (the wire uses no other). */
  type: string
  /** The SDP text. */
  sdp?: string
}

/** An ICE candidate as trickled between peers (`RTCIceCandidateInit`). */
export interface RtcIceCandidate {
  /** The `candidate:` attribute line; empty for end-of-candidates. */
  candidate: string
  /** Media stream id it belongs to. */
  sdpMid?: string | null
  /** Index of the m-line it belongs to. */
  sdpMLineIndex?: number | null
}

/** The part of an `RTCDataChannel` the wire uses. */
export interface RtcDataChannelLike {
  /** Set to `'arraybuffer'` by the wire. */
  binaryType: string
  /** `connecting`, `open`, `closing` or `closed`. */
  readonly readyState: string
  /** Bytes queued in the channel, not yet handed to the network. */
  readonly bufferedAmount: number
  /** `bufferedamountlow` fires when `bufferedAmount` falls to this (bytes). */
  bufferedAmountLowThreshold: number
  /** Sends one binary message (a plain `ArrayBuffer`-backed view, as the DOM types want). */
  send(data: Uint8Array<ArrayBuffer>): void
  /** Closes the channel. */
  close(): void
  /** Listens to `open`, `message`, `bufferedamountlow`, `close` and `error`. */
  // biome-ignore lint/suspicious/noExplicitAny: event shapes differ between the DOM and polyfills
  addEventListener(type: string, listener: (event: any) => void): void
  /** Removes a listener added with `addEventListener`. */
  // biome-ignore lint/suspicious/noExplicitAny: as above
  removeEventListener(type: string, listener: (event: any) => void): void
}

/** The part of an `RTCPeerConnection` the wire uses. */
export interface RtcPeerConnectionLike {
  /** Creates the data channel (the wire asks for a pre-negotiated one: no `datachannel` event). */
  createDataChannel(
    label: string,
    init: { negotiated: boolean; id: number; ordered: boolean },
  ): RtcDataChannelLike
  /** Makes the offer (initiator). */
  createOffer(): Promise<RtcSessionDescription>
  /** Makes the answer (the other side). */
  createAnswer(): Promise<RtcSessionDescription>
  /** Applies our description. */
  setLocalDescription(description: { type: 'offer' | 'answer'; sdp?: string }): Promise<void>
  /** Applies the peer's description. */
  setRemoteDescription(description: { type: 'offer' | 'answer'; sdp: string }): Promise<void>
  /** Adds a candidate the peer trickled. */
  addIceCandidate(candidate: RtcIceCandidate): Promise<void>
  /** `new`, `connecting`, `connected`, `disconnected`, `failed` or `closed`. */
  readonly connectionState: string
  /** Listens to `icecandidate` and `connectionstatechange`. */
  // biome-ignore lint/suspicious/noExplicitAny: as above
  addEventListener(type: string, listener: (event: any) => void): void
  /** Removes a listener added with `addEventListener`. */
  // biome-ignore lint/suspicious/noExplicitAny: as above
  removeEventListener(type: string, listener: (event: any) => void): void
  /** Closes the connection and its channels. */
  close(): void
}

/**
 * An `RTCPeerConnection` constructor: `globalThis.RTCPeerConnection` in browsers,
 * `RTCPeerConnection` of `node-datachannel/polyfill` in Node.
 */
export type RtcPeerConnectionConstructor = new (
  configuration: RtcConfiguration,
) => RtcPeerConnectionLike
