import { rtcConfiguration } from '@picostack/net'
import type { Clock } from '@picostack/store'
import { KernelError } from '../errors.ts'
import type { Readable } from '../readable.ts'
import type { Peer } from '../sync/engine.ts'
import { TokenBucket } from '../sync/token-bucket.ts'
import { type DirectLink, type DirectLinkOptions, DirectLinks } from './direct-links.ts'
import type { SignalHost } from './host.ts'
import { Introducer } from './introducer.ts'
import { DEFAULT_SIGNAL_LIMITS, type SignalLimits } from './limits.ts'
import { decodeSignal, encodeSignal } from './messages.ts'

/** Options of signalling and direct links (`KernelOptions.signal`). */
export interface SignalOptions extends DirectLinkOptions {
  /** Introduce connected peers to each other (default true). */
  introduce?: boolean
  /** Limits; unset fields take {@link DEFAULT_SIGNAL_LIMITS}. */
  limits?: Partial<SignalLimits>
}

/**
 * A kernel's signalling (docs/webrtc.md): the messages that let two peers connected to
 * the same kernel open a direct WebRTC link, carried as sync-protocol `signal` messages.
 * Every kernel introduces (unless `introduce: false`); a kernel given an
 * `RTCPeerConnection` also takes direct links. Each peer's signalling messages are
 * size-checked and rate-limited ({@link SignalLimits}).
 */
export class Signalling {
  readonly limits: SignalLimits
  readonly #introducer: Introducer | undefined
  readonly #links: DirectLinks
  readonly #buckets = new WeakMap<Peer, TokenBucket>()
  /** Peers we told that we take direct links. */
  readonly #told = new WeakSet<Peer>()
  #known = new Set<Peer>()
  readonly #unsubscribe: () => void

  /**
   * @throws KERNEL_INVALID_INPUT when a limit is not a positive number, `RTCPeerConnection`
   *   is not a constructor, or `iceServers` / `rtcConfiguration` is malformed (a scheme
   *   other than `stun:`, `turn:`, `turns:`; a TURN server without `username` and
   *   `credential`; `iceTransportPolicy: 'relay'` without TURN; see `rtcConfiguration` of
   *   `@picostack/net`, whose `NET_INVALID_INPUT` is the `cause`)
   */
  constructor(
    host: SignalHost,
    options: SignalOptions = {},
    private readonly clock: Clock,
  ) {
    this.limits = { ...DEFAULT_SIGNAL_LIMITS, ...options.limits }
    for (const [name, value] of Object.entries(this.limits)) {
      const least = name === 'linkRetries' ? 0 : Number.MIN_VALUE
      if (!Number.isFinite(value) || value < least) {
        const what = least === 0 ? 'non-negative' : 'positive'
        throw new KernelError('KERNEL_INVALID_INPUT', `signal limit ${name} must be ${what}`)
      }
    }
    if (
      options.RTCPeerConnection !== undefined &&
      typeof options.RTCPeerConnection !== 'function'
    ) {
      throw new KernelError('KERNEL_INVALID_INPUT', 'RTCPeerConnection must be a constructor')
    }
    try {
      rtcConfiguration(options.iceServers, options.rtcConfiguration)
    } catch (cause) {
      throw new KernelError('KERNEL_INVALID_INPUT', `signal: ${(cause as Error).message}`, {
        cause,
      })
    }
    this.#introducer = options.introduce === false ? undefined : new Introducer(this.limits, clock)
    this.#links = new DirectLinks(host, options, this.limits, clock)
    this.#unsubscribe = host.connections.subscribe((peers) => this.#onPeers(peers))
  }

  /** Peers introduced to this kernel and how each is reached (direct or relayed). */
  get links(): Readable<DirectLink[]> {
    return this.#links.links
  }

  /**
   * Handles a signalling message from `peer`.
   * @throws KERNEL_FLOOD over `signalsPerSec` / `signalBurst`
   * @throws KERNEL_TOO_LARGE / KERNEL_PROTOCOL for an oversized or malformed message
   * @throws KERNEL_TOO_MANY_LINKS when the peer asks to reach too many others
   */
  receive(payload: Uint8Array, peer: Peer): void {
    let bucket = this.#buckets.get(peer)
    if (!bucket) {
      bucket = new TokenBucket(this.limits.signalBurst, this.limits.signalsPerSec, () =>
        this.clock.now(),
      )
      this.#buckets.set(peer, bucket)
    }
    if (!bucket.take()) {
      throw new KernelError(
        'KERNEL_FLOOD',
        `over ${this.limits.signalsPerSec} signals per second (burst ${this.limits.signalBurst})`,
      )
    }
    const message = decodeSignal(payload, this.limits.maxSignalBytes, this.limits.maxIntroductions)
    switch (message.kind) {
      case 'direct':
        this.#introducer?.direct(peer)
        return
      case 'peers':
        this.#links.introduced(peer, message.nodeIds)
        return
      case 'forward':
        if (!this.#introducer)
          throw new KernelError('KERNEL_NO_ROUTE', 'this kernel introduces no one')
        this.#introducer.forward(peer, message.to, message.rtc)
        return
      case 'forwarded':
        this.#links.received(peer, message.from, message.rtc)
        return
    }
  }

  /** Tells new peers we take direct links; forgets the peers that left. */
  #onPeers(peers: Peer[]): void {
    const now = new Set(peers)
    for (const peer of this.#known) {
      if (now.has(peer)) continue
      this.#introducer?.leave(peer)
      this.#links.leave(peer)
    }
    this.#known = now
    if (!this.#links.enabled) return
    for (const peer of peers) {
      if (this.#told.has(peer)) continue
      this.#told.add(peer)
      peer.signal(encodeSignal({ kind: 'direct' }))
    }
  }

  /** Closes every direct link and stops introducing. */
  close(): void {
    this.#unsubscribe()
    this.#introducer?.close()
    this.#links.close()
  }
}
