import { fromHex, toHex } from '@picostack/feed'
import type { Clock } from '@picostack/store'
import { KernelError } from '../errors.ts'
import type { Peer } from '../sync/engine.ts'
import { TokenBucket } from '../sync/token-bucket.ts'
import type { SignalLimits } from './limits.ts'
import { encodeSignal, type RtcEnvelope } from './messages.ts'

/** Least time between two rounds of `peers` lists, ms (joins in a burst share one round). */
export const ANNOUNCE_INTERVAL_MS = 1000

/**
 * The introducer side of signalling, run by every kernel: lists to each peer that takes
 * direct links the others that do, and passes `forward`ed signals on, stamped with the
 * sender's node id. Bounded: `maxTargetsPerPeer` distinct targets per peer per window
 * (`KERNEL_TOO_MANY_LINKS` past it), and what goes to one peer is paced at half its
 * signalling rate (so an honest introducer never trips a peer's flood limit); signals over
 * that pace are answered `refused` with `KERNEL_FLOOD`.
 */
export class Introducer {
  /** Peers that take direct links, by node id (hex). */
  readonly #direct = new Map<string, Peer>()
  /** Per source: target id -> when it may be counted again (ms). */
  readonly #targets = new WeakMap<Peer, Map<string, number>>()
  readonly #paces = new WeakMap<Peer, TokenBucket>()
  #timer: unknown
  #lastAnnounce = Number.NEGATIVE_INFINITY
  #closed = false

  constructor(
    private readonly limits: SignalLimits,
    private readonly clock: Clock,
  ) {}

  /** `peer` said it takes direct links. */
  direct(peer: Peer): void {
    if (this.#direct.get(peer.id) === peer) return
    this.#direct.set(peer.id, peer)
    this.#schedule()
  }

  /** `peer` disconnected. */
  leave(peer: Peer): void {
    if (this.#direct.get(peer.id) !== peer) return
    this.#direct.delete(peer.id)
    this.#schedule()
  }

  /**
   * Passes `rtc` from `source` on to the peer `to`; an unknown target or one that takes no
   * direct links is answered `refused` with `KERNEL_NO_ROUTE`.
   * @throws KERNEL_TOO_MANY_LINKS when `source` asked for more than `maxTargetsPerPeer`
   *   distinct targets within `introductionWindowMs`
   */
  forward(source: Peer, to: Uint8Array, rtc: RtcEnvelope): void {
    const key = toHex(to)
    const now = this.clock.now()
    let targets = this.#targets.get(source)
    if (!targets) {
      targets = new Map()
      this.#targets.set(source, targets)
    }
    for (const [target, until] of targets) if (until <= now) targets.delete(target)
    if (!targets.has(key)) {
      if (targets.size >= this.limits.maxTargetsPerPeer) {
        throw new KernelError(
          'KERNEL_TOO_MANY_LINKS',
          `asked to reach more than ${this.limits.maxTargetsPerPeer} peers in ${this.limits.introductionWindowMs} ms`,
        )
      }
      targets.set(key, now + this.limits.introductionWindowMs)
    }
    const target = this.#direct.get(key)
    if (!target || target === source) {
      this.#send(source, to, { type: 'refused', code: 'KERNEL_NO_ROUTE' })
      return
    }
    if (!this.#send(target, fromHex(source.id), rtc)) {
      this.#send(source, to, { type: 'refused', code: 'KERNEL_FLOOD' })
    }
  }

  /** Sends `forwarded` to `peer` within its pace; false when over it (nothing sent). */
  #send(peer: Peer, from: Uint8Array, rtc: RtcEnvelope): boolean {
    let pace = this.#paces.get(peer)
    if (!pace) {
      const { signalBurst, signalsPerSec } = this.limits
      pace = new TokenBucket(Math.max(1, signalBurst >> 1), Math.max(1, signalsPerSec / 2), () =>
        this.clock.now(),
      )
      this.#paces.set(peer, pace)
    }
    if (!pace.take()) return false
    peer.signal(encodeSignal({ kind: 'forwarded', from, rtc }))
    return true
  }

  /** Sends the lists soon: at once if the last round was long enough ago. */
  #schedule(): void {
    if (this.#timer !== undefined || this.#closed) return
    const waitMs = Math.max(0, this.#lastAnnounce + ANNOUNCE_INTERVAL_MS - this.clock.now())
    this.#timer = this.clock.setTimeout(() => {
      this.#timer = undefined
      this.#announce()
    }, waitMs)
  }

  /** Tells every peer that takes direct links which others do (at most `maxIntroductions`). */
  #announce(): void {
    if (this.#closed) return
    this.#lastAnnounce = this.clock.now()
    const peers = [...this.#direct.values()]
    for (const peer of peers) {
      const nodeIds: Uint8Array[] = []
      for (const other of peers) {
        if (nodeIds.length >= this.limits.maxIntroductions) break
        if (other !== peer) nodeIds.push(fromHex(other.id))
      }
      peer.signal(encodeSignal({ kind: 'peers', nodeIds }))
    }
  }

  /** Stops announcing. */
  close(): void {
    this.#closed = true
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer)
    this.#timer = undefined
    this.#direct.clear()
  }
}
