/**
 * Who holds the relay's connection slots, and who gives one up when a new client needs it:
 * the connection idle longest, never one that is busy or still upgrading. So idle sockets
 * cannot lock honest clients out, in total or behind one address (a NAT, a campus).
 */
import { addressScope } from '@picostack/net'
import type { RelayLimits } from './limits.ts'

/** A connection holding a slot, as {@link Slots} sees it. */
export interface SlotHolder {
  /** The client's IP address. */
  readonly ip: string
  /** When it last sent a message, ms since the epoch; `undefined` while still upgrading. */
  readonly lastMessageAt: number | undefined
}

/** Why {@link Slots.admit} turned a client away. */
export type SlotRefusal = 'MAX_CONNECTIONS' | 'MAX_CONNECTIONS_PER_IP'

/**
 * What {@link Slots.admit} decided: admitted, with the connection `evicted` to make room
 * (already released; the caller closes it), or refused and why.
 */
export type Admission<T> =
  | { readonly admitted: true; readonly evicted: T | undefined }
  | { readonly admitted: false; readonly refusal: SlotRefusal }

/** Connection slots in total and per IP address ({@link RelayLimits}). */
export class Slots<T extends SlotHolder> {
  readonly #all = new Set<T>()
  readonly #byIp = new Map<string, Set<T>>()

  /**
   * @param limits - `maxConnections`, `maxConnectionsPerIp`, `idleAfterMs`
   * @param now - the clock, ms since the epoch
   */
  constructor(
    private readonly limits: Pick<
      RelayLimits,
      'maxConnections' | 'maxConnectionsPerIp' | 'idleAfterMs'
    >,
    private readonly now: () => number = Date.now,
  ) {}

  /** Slots held. */
  get size(): number {
    return this.#all.size
  }

  /** Slots held by connections from `ip`. */
  heldBy(ip: string): number {
    return this.#byIp.get(ip)?.size ?? 0
  }

  /**
   * Gives `holder` a slot. When its address (or the relay) is full, the connection of that
   * address (or of the relay) that has been idle longest, at least `idleAfterMs`, is
   * released to make room and returned as `evicted` (the caller closes it); when none is
   * idle, `holder` is refused.
   */
  admit(holder: T): Admission<T> {
    let evicted: T | undefined
    const scope = addressScope(holder.ip)
    const sameIp = this.#byIp.get(scope)
    if (sameIp && sameIp.size >= this.limits.maxConnectionsPerIp) {
      evicted = this.#idlest(sameIp)
      if (!evicted) return { admitted: false, refusal: 'MAX_CONNECTIONS_PER_IP' }
      this.release(evicted)
    }
    // An eviction above freed a slot of the relay too.
    if (this.#all.size >= this.limits.maxConnections) {
      evicted = this.#idlest(this.#all)
      if (!evicted) return { admitted: false, refusal: 'MAX_CONNECTIONS' }
      this.release(evicted)
    }
    this.#all.add(holder)
    const mine = this.#byIp.get(scope) ?? new Set<T>()
    mine.add(holder)
    this.#byIp.set(scope, mine)
    return { admitted: true, evicted }
  }

  /** Frees `holder`'s slot; a no-op when it holds none (so it may run twice). */
  release(holder: T): void {
    if (!this.#all.delete(holder)) return
    const scope = addressScope(holder.ip)
    const mine = this.#byIp.get(scope)
    mine?.delete(holder)
    if (mine?.size === 0) this.#byIp.delete(scope)
  }

  /** The holder of `among` silent longest, if it has been silent `idleAfterMs` at least. */
  #idlest(among: Set<T>): T | undefined {
    const idleSince = this.now() - this.limits.idleAfterMs
    let idlest: T | undefined
    for (const holder of among) {
      const at = holder.lastMessageAt
      if (at === undefined || at > idleSince) continue
      if (!idlest || at < (idlest.lastMessageAt as number)) idlest = holder
    }
    return idlest
  }
}
