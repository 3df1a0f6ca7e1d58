import { fromHex, toHex } from '@picostack/feed'
import {
  type NetErrorCode,
  type RtcIceServer,
  RtcPeer,
  type RtcPeerConnectionConstructor,
  type RtcWireOptions,
  rtcWire,
} from '@picostack/net'
import type { Clock } from '@picostack/store'
import { KernelError, type KernelErrorCode } from '../errors.ts'
import { type Readable, Writable } from '../readable.ts'
import type { Peer } from '../sync/engine.ts'
import type { SignalHost } from './host.ts'
import type { SignalLimits } from './limits.ts'
import { encodeSignal, type RtcEnvelope } from './messages.ts'

/** How this kernel reaches a peer it was introduced to. */
export type LinkState =
  /** Only through an introducer (e.g. a relay): blocks go via its store. */
  | 'relayed'
  /** A WebRTC connection is being negotiated. */
  | 'connecting'
  /** A WebRTC data channel carries a sync session with it. */
  | 'direct'
  /**
   * The last try of a direct link failed (`failure` says why); the peer is reached through
   * the introducer, as `relayed`. A failure on the way is tried again by the offering side
   * (`linkRetries` times, after `linkRetryDelayMs`, doubling); past them the peer is tried
   * again when introduced again after `failedLinkRetryMs`, or when it offers.
   */
  | 'failed'

/** Why a direct link could not be opened (docs/webrtc.md, "When a link fails"). */
export interface LinkFailure {
  /**
   * `NET_TIMEOUT`: not open within `connectTimeoutMs` (no candidate pair connected: other
   * networks without STUN/TURN, a firewall, an unreachable TURN server);
   * `NET_ICE_FAILED`: the WebRTC stack gave up on every candidate pair;
   * `KERNEL_REMOTE_ERROR`: the peer refused or gave up (its code is in `message`);
   * `NET_MALFORMED`: the peer's description was refused by our WebRTC stack;
   * `NET_DISCONNECTED`: the connection closed before it opened.
   */
  readonly code: NetErrorCode | KernelErrorCode
  /** Human-readable detail (may change between versions). */
  readonly message: string
}

/** One peer this kernel was introduced to or links with directly. */
export interface DirectLink {
  /** The peer's node id, hex (16 B). */
  readonly id: string
  /** How it is reached now. */
  readonly state: LinkState
  /** Node id (hex) of the introducer the link was negotiated through, or that introduced it. */
  readonly via: string
  /** Why the last try failed; set only when `state` is `failed`. */
  readonly failure?: LinkFailure
}

/** Options of direct links (part of `SignalOptions`). */
export interface DirectLinkOptions {
  /**
   * The `RTCPeerConnection` constructor: `globalThis.RTCPeerConnection` in a browser,
   * `RTCPeerConnection` of `node-datachannel/polyfill` in Node. Without it the kernel
   * takes no direct links (it still introduces others).
   */
  RTCPeerConnection?: RtcPeerConnectionConstructor
  /**
   * STUN / TURN servers (default none: the local network only; docs/webrtc.md). Checked
   * when the kernel is made: a malformed one is `KERNEL_INVALID_INPUT`.
   */
  iceServers?: RtcIceServer[]
  /**
   * More `RTCPeerConnection` configuration, e.g. node-datachannel's `{ bindAddress }` or
   * `{ iceTransportPolicy: 'relay' }` (which needs a TURN server in `iceServers`).
   */
  rtcConfiguration?: Record<string, unknown>
  /** Options of the WebRTC wire of each link (frame limits, chunk size, buffering). */
  wire?: RtcWireOptions
}

interface Link {
  readonly id: string
  readonly via: Peer
  readonly rtc: RtcPeer
  /** Tries of this peer that failed in a row before this one. */
  readonly tries: number
  state: 'connecting' | 'direct'
  /** The code the peer refused this try with, if it did. */
  refusedWith?: string
}

/** A failed try, kept while an introducer lists the peer. */
interface Failed {
  readonly via: Peer
  readonly failure: LinkFailure
  /** When it failed (clock ms). */
  readonly at: number
  /** Tries that failed in a row, this one included. */
  readonly tries: number
}

/** The failure a link that closed before it opened ends with. */
function failureOf(reason: Error | undefined): LinkFailure {
  const code = (reason as { code?: NetErrorCode | KernelErrorCode } | undefined)?.code
  return {
    code: code ?? 'NET_DISCONNECTED',
    message: reason?.message ?? 'the connection closed before it opened',
  }
}

/**
 * Failures on the way, not a peer's choice: worth another try (`linkRetries`). A refused
 * description is among them: node-datachannel was seen to refuse a valid answer on a
 * loaded machine, and a broken peer costs only the bounded retries.
 */
const TRANSIENT_FAILURES: ReadonlySet<string> = new Set([
  'NET_TIMEOUT',
  'NET_ICE_FAILED',
  'NET_DISCONNECTED',
  'NET_MALFORMED',
])

function refused(code: KernelErrorCode | NetErrorCode): RtcEnvelope {
  return { type: 'refused', code }
}

/**
 * The endpoint side of signalling: takes the introductions of each introducer, opens a
 * WebRTC link to every introduced peer whose node id is larger than ours (so exactly one
 * side offers), answers offers within the caps (`maxPendingLinks`, `maxPendingPerIntroducer`,
 * `maxDirectLinks`; past them the offer is answered `refused` with `KERNEL_TOO_MANY_LINKS`),
 * and runs a sync session over each open link. A link that does not open ends `failed`
 * with a typed {@link LinkFailure} (the peer is told, with `refused` and the code, so it
 * stops waiting too); the peer stays reached through the introducer, and the offering side
 * tries again after a failure on the way (`linkRetries`, `linkRetryDelayMs`).
 */
export class DirectLinks {
  readonly #links = new Map<string, Link>()
  /** Per introducer: the ids it introduced (at most `maxIntroductions`). */
  readonly #introduced = new Map<Peer, string[]>()
  /** Failed tries by peer id, pruned to the peers some introducer still lists. */
  readonly #failed = new Map<string, Failed>()
  /** Pending retries (clock timer handles) by peer id; each has a `#failed` entry. */
  readonly #retries = new Map<string, unknown>()
  readonly #view = new Writable<DirectLink[]>([])
  readonly #selfId: string
  #closed = false

  constructor(
    private readonly host: SignalHost,
    private readonly options: DirectLinkOptions,
    private readonly limits: SignalLimits,
    private readonly clock: Clock,
  ) {
    this.#selfId = toHex(host.nodeId)
  }

  /** True when direct links are on (an `RTCPeerConnection` was given). */
  get enabled(): boolean {
    return this.options.RTCPeerConnection !== undefined
  }

  /** The introduced and linked peers, as a readable store. */
  get links(): Readable<DirectLink[]> {
    return this.#view
  }

  /** `via` lists the peers it can introduce; links to the ones we offer to start now. */
  introduced(via: Peer, nodeIds: Uint8Array[]): void {
    const ids = nodeIds.map(toHex).filter((id) => id !== this.#selfId)
    this.#introduced.set(via, ids)
    const retryBefore = this.clock.now() - this.limits.failedLinkRetryMs
    for (const id of ids) {
      const failed = this.#failed.get(id)
      if (id < this.#selfId || (failed?.at ?? -Infinity) > retryBefore) continue
      // Past its retries, a failed peer costs one try per failedLinkRetryMs.
      if (this.#mayConnect(id, via) === undefined) this.#open(id, via, true, failed?.tries)
    }
    this.#publish()
  }

  /**
   * A signal from `from` through the introducer `via`. Offers beyond the caps are refused
   * back through `via`; answers and candidates for no pending link are dropped.
   */
  received(via: Peer, from: Uint8Array, rtc: RtcEnvelope): void {
    if (this.#closed) return
    const id = toHex(from)
    const link = this.#links.get(id)
    if (rtc.type === 'offer') {
      const refusal = this.enabled ? this.#mayConnect(id, via) : 'KERNEL_NO_ROUTE'
      if (refusal) {
        this.#send(via, from, refused(refusal))
        return
      }
      const opened = this.#open(id, via, false)
      if (opened) opened.rtc.signal(rtc).catch(() => {})
      else this.#send(via, from, refused('KERNEL_NO_ROUTE'))
      this.#publish()
      return
    }
    if (!link || link.via !== via) return
    if (rtc.type === 'refused') {
      link.refusedWith = rtc.code
      link.rtc.close(new KernelError('KERNEL_REMOTE_ERROR', `link refused: ${rtc.code}`))
      return
    }
    link.rtc.signal(rtc).catch((err) => link.rtc.close(err))
  }

  /** A peer disconnected: its introductions go, and so do links still negotiated through it. */
  leave(peer: Peer): void {
    const had = this.#introduced.delete(peer)
    for (const link of this.#links.values()) {
      if (link.via === peer && link.state === 'connecting') {
        link.rtc.close(new KernelError('KERNEL_NO_ROUTE', 'the introducer left'))
      }
    }
    if (had) this.#publish()
  }

  /** Closes every link. */
  close(): void {
    this.#closed = true
    for (const handle of this.#retries.values()) this.clock.clearTimeout(handle)
    this.#retries.clear()
    for (const link of [...this.#links.values()]) link.rtc.close()
    this.#introduced.clear()
    this.#failed.clear()
    this.#publish()
  }

  /** Why a link to `id` through `via` may not start now, or `undefined` when it may. */
  #mayConnect(id: string, via: Peer): KernelErrorCode | undefined {
    if (this.#closed || !this.enabled) return 'KERNEL_NO_ROUTE'
    if (this.#links.has(id) || this.host.connections.value.some((peer) => peer.id === id)) {
      return 'KERNEL_DUPLICATE_PEER'
    }
    let pending = 0
    let pendingVia = 0
    for (const link of this.#links.values()) {
      if (link.state !== 'connecting') continue
      pending++
      if (link.via === via) pendingVia++
    }
    const { maxPendingLinks, maxPendingPerIntroducer, maxDirectLinks } = this.limits
    if (
      pending >= maxPendingLinks ||
      pendingVia >= maxPendingPerIntroducer ||
      this.#links.size >= maxDirectLinks
    ) {
      return 'KERNEL_TOO_MANY_LINKS'
    }
    return undefined
  }

  /**
   * Starts a link (`tries`: failed tries of the peer in a row before it); `undefined` when
   * our own WebRTC stack refuses (not the peer's fault).
   */
  #open(id: string, via: Peer, initiator: boolean, tries = 0): Link | undefined {
    const to = fromHex(id)
    let rtc: RtcPeer
    try {
      rtc = new RtcPeer({
        RTCPeerConnection: this.options.RTCPeerConnection!,
        initiator,
        iceServers: this.options.iceServers,
        configuration: this.options.rtcConfiguration,
        connectTimeoutMs: this.limits.connectTimeoutMs,
        onsignal: (signal) => this.#send(via, to, signal),
      })
    } catch {
      return undefined
    }
    const link: Link = { id, via, rtc, tries, state: 'connecting' }
    this.#links.set(id, link)
    this.#forgetFailure(id)
    rtc.opened.then(
      () => {
        link.state = 'direct'
        try {
          rtcWire(this.host.spawnWire(), rtc.channel, this.options.wire)
        } catch (err) {
          rtc.close(err instanceof Error ? err : new Error(String(err)))
          return
        }
        this.#publish()
      },
      () => {},
    )
    rtc.closed.then((reason) => {
      if (this.#links.get(id) === link) this.#links.delete(id)
      if (link.state === 'connecting' && !this.#closed) {
        const failure = failureOf(reason)
        const failed: Failed = { via, failure, at: this.clock.now(), tries: link.tries + 1 }
        this.#failed.set(id, failed)
        // Told to the peer (it may wait longer than us); not what it caused itself.
        if (TRANSIENT_FAILURES.has(failure.code) && this.host.connections.value.includes(via)) {
          this.#send(via, to, refused(failure.code))
        }
        const onTheWay = TRANSIENT_FAILURES.has(link.refusedWith ?? failure.code)
        if (initiator && onTheWay && failed.tries <= this.limits.linkRetries) {
          const delayMs = this.limits.linkRetryDelayMs * 2 ** (failed.tries - 1)
          this.#retries.set(
            id,
            this.clock.setTimeout(() => this.#retry(id), delayMs),
          )
        }
      }
      this.#publish()
    })
    return link
  }

  /** A retry is due: offers again through an introducer that still lists the peer. */
  #retry(id: string): void {
    this.#retries.delete(id)
    const failed = this.#failed.get(id)
    if (!failed || this.#closed) return
    let via: Peer | undefined
    for (const [peer, ids] of this.#introduced) {
      if (ids.includes(id) && (via === undefined || peer === failed.via)) via = peer
    }
    if (via === undefined || this.#mayConnect(id, via) !== undefined) return
    this.#open(id, via, true, failed.tries)
    this.#publish()
  }

  /** Drops the failure of `id` and its pending retry. */
  #forgetFailure(id: string): void {
    this.#failed.delete(id)
    const handle = this.#retries.get(id)
    if (handle === undefined) return
    this.clock.clearTimeout(handle)
    this.#retries.delete(id)
  }

  #send(via: Peer, to: Uint8Array, rtc: RtcEnvelope): void {
    via.signal(encodeSignal({ kind: 'forward', to, rtc }))
  }

  #publish(): void {
    const view: DirectLink[] = []
    const seen = new Set<string>()
    for (const link of this.#links.values()) {
      seen.add(link.id)
      view.push({ id: link.id, state: link.state, via: link.via.id })
    }
    for (const [via, ids] of this.#introduced) {
      for (const id of ids) {
        if (seen.has(id)) continue
        seen.add(id)
        const failed = this.#failed.get(id)
        view.push(
          failed
            ? { id, state: 'failed', via: failed.via.id, failure: failed.failure }
            : { id, state: 'relayed', via: via.id },
        )
      }
    }
    // A failure outlives neither its link nor every introduction of the peer (bounded).
    for (const id of [...this.#failed.keys()]) if (!seen.has(id)) this.#forgetFailure(id)
    this.#view.set(view)
  }
}
