/**
 * Codes thrown by `@picostack/net`. Match on `code`, never on `message`.
 *
 * | code | meaning |
 * |---|---|
 * | `NET_DISCONNECTED` | the wire is closed: posting on it, or a request pending when it closed; a WebSocket already closing or closed given to `wsWire` |
 * | `NET_TIMEOUT` | no reply within `replyTimeoutMs`, a hub wire not opened within `openTimeoutMs`, or (as the reason given to `FrameLink.destroy`) a peer that did not close within `halfOpenTimeoutMs` |
 * | `NET_NO_HANDLER` | the other end of the wire has no `onmessage` handler yet (or a repeater hub got a request) |
 * | `NET_REMOTE_ERROR` | the other side failed the request: its handler threw, it called `answer.reject`, or it closed with an error |
 * | `NET_TOO_MANY_PENDING` | a plug or byte link already waits for `maxPendingReplies` replies (or a WebRTC wire holds `maxQueuedBytes` unsent, a WebRTC peer got `maxRemoteCandidates`) |
 * | `NET_FRAME_TOO_LARGE` | a frame is larger than `maxFrameBytes` (outgoing: that send fails; incoming: the connection closes) |
 * | `NET_MALFORMED` | incoming bytes are not a valid frame (the connection closes) |
 * | `NET_ALREADY_OPEN` | a plug already has a handler (`open`/`onmessage` twice) |
 * | `NET_ANSWERED` | an answer function was used twice |
 * | `NET_ICE_FAILED` | a WebRTC peer connection failed before it opened: ICE found no candidate pair that connects (no common network; a STUN or TURN server is needed, or the one given is unreachable) |
 * | `NET_LATE_ATTACH` | `wsWire` got a client WebSocket that is already open: messages it received before are lost |
 * | `NET_INVALID_INPUT` | an argument has the wrong type or range |
 */
export type NetErrorCode =
  | 'NET_DISCONNECTED'
  | 'NET_TIMEOUT'
  | 'NET_NO_HANDLER'
  | 'NET_REMOTE_ERROR'
  | 'NET_TOO_MANY_PENDING'
  | 'NET_FRAME_TOO_LARGE'
  | 'NET_MALFORMED'
  | 'NET_ALREADY_OPEN'
  | 'NET_ANSWERED'
  | 'NET_ICE_FAILED'
  | 'NET_LATE_ATTACH'
  | 'NET_INVALID_INPUT'

/**
 * Error thrown by `@picostack/net`; see {@link NetErrorCode} for the codes.
 *
 * Same shape as `PicoError` of `@picostack/feed` (net depends on no other picostack
 * package): a stable `code`, a human `message`, the underlying failure in `cause`.
 */
export class NetError extends Error {
  /** Stable machine-readable error code, e.g. `NET_TIMEOUT`. */
  readonly code: NetErrorCode

  /**
   * @param code - stable code
   * @param message - human-readable explanation (may change between versions)
   * @param options - `{ cause }` of the failure, if any
   */
  constructor(code: NetErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

/** True when `err` is a {@link NetError} with `code`. */
export function isNetError(err: unknown, code?: NetErrorCode): err is NetError {
  return err instanceof NetError && (code === undefined || err.code === code)
}
