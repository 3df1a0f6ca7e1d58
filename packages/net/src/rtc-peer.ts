import { deferred } from './deferred.ts'
import { NetError } from './errors.ts'
import { positiveInteger } from './plug.ts'
import { rtcConfiguration } from './rtc-ice.ts'
import type {
  RtcDataChannelLike,
  RtcIceServer,
  RtcPeerConnectionConstructor,
  RtcPeerConnectionLike,
} from './rtc-types.ts'

/** Default time from creating an {@link RtcPeer} to its data channel being open: 15 s. */
export const DEFAULT_RTC_CONNECT_TIMEOUT_MS = 15_000

/** Default most ICE candidates taken from the peer per connection: 32. */
export const DEFAULT_MAX_REMOTE_CANDIDATES = 32

/** Longest SDP text of an offer or answer, characters (browsers make 0.5-3 K for one data channel). */
export const MAX_SDP_CHARS = 16 * 1024

/** Longest `candidate:` line, characters. */
export const MAX_CANDIDATE_CHARS = 1024

/** Label and stream id of the one pre-negotiated data channel both sides create. */
const CHANNEL_LABEL = 'picostack'
const CHANNEL_ID = 0

/**
 * What two {@link RtcPeer}s exchange to connect, over any channel they already share
 * (plain objects: the carrier encodes them). The initiator sends the `offer`, the other
 * side the `answer`; both trickle `candidate`s.
 */
export type RtcSignal =
  | {
      /** The initiator's session description. */
      type: 'offer'
      /** SDP text, at most {@link MAX_SDP_CHARS}. */
      sdp: string
    }
  | {
      /** The other side's session description. */
      type: 'answer'
      /** SDP text, at most {@link MAX_SDP_CHARS}. */
      sdp: string
    }
  | {
      /** One ICE candidate. */
      type: 'candidate'
      /** The `candidate:` line, at most {@link MAX_CANDIDATE_CHARS}. */
      candidate: string
      /** Its media stream id. */
      sdpMid: string | null
      /** Its m-line index. */
      sdpMLineIndex: number | null
    }

/** Options of {@link RtcPeer}. */
export interface RtcPeerOptions {
  /**
   * The `RTCPeerConnection` constructor: `globalThis.RTCPeerConnection` in a browser,
   * `RTCPeerConnection` from `node-datachannel/polyfill` in Node (net imports neither).
   */
  RTCPeerConnection: RtcPeerConnectionConstructor
  /** True on the side that sends the offer (exactly one of the two). */
  initiator: boolean
  /** Sends a signal to the other peer (it calls {@link RtcPeer.signal} with it). */
  onsignal: (signal: RtcSignal) => void
  /**
   * STUN / TURN servers (default none: host candidates only, so peers connect within one
   * network). Add `{ urls: 'stun:stun.example.org:3478' }` to cross NATs, and a TURN server
   * (`{ urls: 'turn:turn.example.org:3478', username, credential }`) for networks where
   * no direct path exists (docs/webrtc.md).
   */
  iceServers?: RtcIceServer[]
  /**
   * More fields of the `RTCPeerConnection` configuration, passed as they are (e.g.
   * node-datachannel's `{ bindAddress: '127.0.0.1' }`, `{ iceTransportPolicy: 'relay' }`).
   */
  configuration?: Record<string, unknown>
  /** Time until the data channel must be open, ms (default {@link DEFAULT_RTC_CONNECT_TIMEOUT_MS}). */
  connectTimeoutMs?: number
  /** Most ICE candidates taken from the peer (default {@link DEFAULT_MAX_REMOTE_CANDIDATES}). */
  maxRemoteCandidates?: number
}

function malformed(what: string, cause?: unknown): NetError {
  return new NetError('NET_MALFORMED', what, { cause })
}

/** Checks the shape and sizes of a signal from the peer. */
function checkSignal(signal: RtcSignal): void {
  if (typeof signal !== 'object' || signal === null) throw malformed('a signal must be an object')
  if (signal.type === 'offer' || signal.type === 'answer') {
    if (typeof signal.sdp !== 'string' || signal.sdp.length > MAX_SDP_CHARS) {
      throw malformed(`sdp must be text of at most ${MAX_SDP_CHARS} characters`)
    }
    return
  }
  if (signal.type === 'candidate') {
    const { candidate, sdpMid, sdpMLineIndex } = signal
    if (typeof candidate !== 'string' || candidate.length > MAX_CANDIDATE_CHARS) {
      throw malformed(`candidate must be text of at most ${MAX_CANDIDATE_CHARS} characters`)
    }
    if (sdpMid !== null && (typeof sdpMid !== 'string' || sdpMid.length > 64)) {
      throw malformed('sdpMid must be null or short text')
    }
    if (sdpMLineIndex !== null && !(Number.isInteger(sdpMLineIndex) && sdpMLineIndex >= 0)) {
      throw malformed('sdpMLineIndex must be null or a non-negative integer')
    }
    return
  }
  throw malformed(`unknown signal type ${String((signal as { type?: unknown }).type)}`)
}

/**
 * One WebRTC peer connection carrying one reliable, ordered, pre-negotiated data channel,
 * connected by exchanging {@link RtcSignal}s over any channel the two sides already share.
 * Carry a wire on it with `rtcWire(plug, peer.channel)`. The connection closes when the
 * channel closes, when ICE fails, or when the channel is not open within
 * `connectTimeoutMs`; {@link RtcPeer.closed} says why: `NET_ICE_FAILED` (the WebRTC stack
 * found no candidate pair that connects: no common network, no STUN/TURN server that
 * helps), `NET_TIMEOUT` (not open in time: ICE still checking, a signal lost, the peer
 * gone), `NET_DISCONNECTED` (the path failed after it was open, or the stack could not make
 * a description).
 *
 * ```ts
 * const peer = new RtcPeer({ RTCPeerConnection, initiator: true, onsignal: (s) => send(s) })
 * onSignalFromPeer((s) => peer.signal(s))
 * rtcWire(kernel.spawnWire(), peer.channel)
 * ```
 */
export class RtcPeer {
  /** The data channel (still connecting at first). */
  readonly channel: RtcDataChannelLike
  /** The peer connection. */
  readonly connection: RtcPeerConnectionLike
  /** True on the side that sent the offer. */
  readonly initiator: boolean
  readonly #opened = deferred<void>(true)
  readonly #closed = deferred<Error | undefined>(true)
  readonly #onsignal: (signal: RtcSignal) => void
  readonly #maxRemoteCandidates: number
  readonly #timer: ReturnType<typeof setTimeout>
  /** Candidates that came before the remote description, applied after it. */
  #early: RtcSignal[] = []
  #remoteCandidates = 0
  #described = false
  #isOpen = false
  #isClosed = false

  /**
   * Creates the connection and its channel; the initiator starts making its offer at once.
   * @throws NET_INVALID_INPUT when an option is out of range, `iceServers` or
   *   `configuration` is malformed (see {@link rtcConfiguration}), or the constructor fails
   */
  constructor(options: RtcPeerOptions) {
    if (typeof options.RTCPeerConnection !== 'function') {
      throw new NetError('NET_INVALID_INPUT', 'RTCPeerConnection must be a constructor')
    }
    const connectTimeoutMs = positiveInteger(
      'connectTimeoutMs',
      options.connectTimeoutMs ?? DEFAULT_RTC_CONNECT_TIMEOUT_MS,
      2 ** 31 - 1,
    )
    this.#maxRemoteCandidates = positiveInteger(
      'maxRemoteCandidates',
      options.maxRemoteCandidates ?? DEFAULT_MAX_REMOTE_CANDIDATES,
    )
    const configuration = rtcConfiguration(options.iceServers, options.configuration)
    this.initiator = options.initiator
    this.#onsignal = options.onsignal
    try {
      this.connection = new options.RTCPeerConnection(configuration)
    } catch (cause) {
      throw new NetError('NET_INVALID_INPUT', 'RTCPeerConnection refused the configuration', {
        cause,
      })
    }
    this.channel = this.connection.createDataChannel(CHANNEL_LABEL, {
      negotiated: true,
      id: CHANNEL_ID,
      ordered: true,
    })
    this.#timer = setTimeout(
      () =>
        this.close(
          new NetError('NET_TIMEOUT', `data channel not open within ${connectTimeoutMs} ms`),
        ),
      connectTimeoutMs,
    )
    this.connection.addEventListener('icecandidate', this.#onCandidate)
    this.connection.addEventListener('connectionstatechange', this.#onState)
    this.channel.addEventListener('open', this.#onOpen)
    this.channel.addEventListener('close', this.#onChannelClose)
    if (this.initiator) this.#describe(() => this.connection.createOffer(), 'offer')
  }

  /** Resolves once the data channel is open; rejects with the close reason if it closes first. */
  get opened(): Promise<void> {
    return this.#opened.promise
  }

  /** Resolves when the connection closes, with the reason (`undefined`: closed cleanly). */
  get closed(): Promise<Error | undefined> {
    return this.#closed.promise
  }

  /** True once closed. */
  get isClosed(): boolean {
    return this.#isClosed
  }

  /**
   * Takes a signal from the other peer: the offer (not on the initiator), the answer (only
   * on the initiator), or a candidate.
   * @throws NET_MALFORMED (rejects) for a malformed signal, one out of turn, or a
   *   description the WebRTC stack refuses (the connection closes then)
   * @throws NET_TOO_MANY_PENDING (rejects) past `maxRemoteCandidates` candidates
   * @throws NET_DISCONNECTED (rejects) when the connection is closed
   */
  async signal(signal: RtcSignal): Promise<void> {
    if (this.#isClosed) throw new NetError('NET_DISCONNECTED', 'the peer connection is closed')
    checkSignal(signal)
    if (signal.type === 'candidate') {
      if (++this.#remoteCandidates > this.#maxRemoteCandidates) {
        throw new NetError(
          'NET_TOO_MANY_PENDING',
          `more than ${this.#maxRemoteCandidates} ICE candidates`,
        )
      }
      if (!this.#described) {
        this.#early.push(signal)
        return
      }
      await this.#addCandidate(signal)
      return
    }
    const expected = this.initiator ? 'answer' : 'offer'
    if (signal.type !== expected || this.#described) {
      throw malformed(`an ${signal.type} out of turn`)
    }
    this.#described = true
    try {
      await this.connection.setRemoteDescription({ type: signal.type, sdp: signal.sdp })
    } catch (cause) {
      const err = malformed(`the WebRTC stack refused the ${signal.type}`, cause)
      this.close(err)
      throw err
    }
    if (!this.initiator) await this.#describe(() => this.connection.createAnswer(), 'answer')
    for (const early of this.#early.splice(0)) {
      if (early.type === 'candidate') await this.#addCandidate(early)
    }
  }

  /** Closes the connection and its channel. Idempotent. */
  close(reason?: Error): void {
    if (this.#isClosed) return
    this.#isClosed = true
    clearTimeout(this.#timer)
    this.#early = []
    this.connection.removeEventListener('icecandidate', this.#onCandidate)
    this.connection.removeEventListener('connectionstatechange', this.#onState)
    this.channel.removeEventListener('open', this.#onOpen)
    this.channel.removeEventListener('close', this.#onChannelClose)
    try {
      this.channel.close()
      this.connection.close()
    } catch {
      // already torn down by the stack
    }
    this.#opened.reject(
      new NetError(
        'NET_DISCONNECTED',
        reason ? `peer connection closed: ${reason.message}` : 'peer connection closed',
        { cause: reason },
      ),
    )
    this.#closed.resolve(reason)
  }

  /** Makes our description (offer or answer), applies it and sends it. */
  async #describe(make: () => Promise<{ sdp?: string }>, type: 'offer' | 'answer') {
    try {
      const description = await make()
      if (this.#isClosed) return
      await this.connection.setLocalDescription({ type, sdp: description.sdp })
      if (this.#isClosed) return
      this.#onsignal({ type, sdp: description.sdp ?? '' })
    } catch (cause) {
      this.close(new NetError('NET_DISCONNECTED', `could not make the ${type}`, { cause }))
    }
  }

  async #addCandidate(signal: RtcSignal & { type: 'candidate' }): Promise<void> {
    if (this.#isClosed) return
    try {
      await this.connection.addIceCandidate({
        candidate: signal.candidate,
        sdpMid: signal.sdpMid,
        sdpMLineIndex: signal.sdpMLineIndex,
      })
    } catch {
      // A candidate the stack cannot use (another address family, an unknown m-line) is
      // not fatal: ICE goes on with the others, and the connect timeout bounds the wait.
    }
  }

  readonly #onCandidate = (event: {
    candidate?: { candidate: string; sdpMid?: string | null; sdpMLineIndex?: number | null } | null
  }) => {
    const candidate = event?.candidate
    if (!candidate?.candidate || this.#isClosed) return
    this.#onsignal({
      type: 'candidate',
      candidate: candidate.candidate,
      sdpMid: candidate.sdpMid ?? null,
      sdpMLineIndex: candidate.sdpMLineIndex ?? null,
    })
  }

  readonly #onState = () => {
    const state = this.connection.connectionState
    if (state !== 'failed') {
      if (state === 'closed') this.close()
      return
    }
    this.close(
      this.#isOpen
        ? new NetError('NET_DISCONNECTED', 'the connection failed (ICE lost the path)')
        : new NetError('NET_ICE_FAILED', 'ICE failed: no candidate pair connects the peers'),
    )
  }

  readonly #onOpen = () => {
    this.#isOpen = true
    clearTimeout(this.#timer)
    this.#opened.resolve()
  }

  readonly #onChannelClose = () => this.close()
}
