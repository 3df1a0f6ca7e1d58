import type { Block } from '@picostack/feed'

/** A payload as the application sent it (whatever the codec decoded). */
// biome-ignore lint/suspicious/noExplicitAny: payloads are application-defined
export type Payload = any

/** Returned by `ctx.reject(reason)`: the block is invalid; the rest of its patch stops. */
export class Rejection {
  /** Why, as given to `ctx.reject`. */
  readonly reason: string
  constructor(reason: string) {
    this.reason = reason
  }
}

/**
 * Returned by `ctx.postpone(ms)`: the block cannot be judged yet (say, it refers to a block
 * of another chain that has not arrived). It and the rest of its patch wait in the mempool
 * and are dispatched again after `ms`, at most `retries` times, then dropped.
 */
export class Postponement {
  /** Wait before the retry, ms. */
  readonly ms: number
  /** Why, as given to `ctx.postpone`. */
  readonly reason: string
  /** Most times the block is retried before it is dropped. */
  readonly retries: number
  constructor(ms: number, reason: string, retries: number) {
    this.ms = ms
    this.reason = reason
    this.retries = retries
  }
}

/**
 * Returned by `ctx.delete()` from a collection's `compute`: the object is deleted. Every
 * peer that applies the block forgets the object and keeps a tombstone (the collection and
 * the id, on disk) until the object's natural expiry, so late or re-sent blocks of the
 * object do not bring it back. The delete block backs the tombstone; the object's blocks
 * back nothing any more and leave the disk under the chain rules of expiry. A delete of an
 * object this store does not hold backs nothing and deletes nothing (the rule that allowed
 * it could not be checked against the object): see the store README, "Deletion".
 */
export class Deletion {}

/**
 * A signal raised with `ctx.signal(type, payload)` while a block was computed. It reaches
 * every `trap` after the block is merged; the signalling block then also backs whatever
 * the trap changed.
 */
export interface Signal {
  /** Signal type, as given to `ctx.signal`. */
  type: string
  /** Its payload. */
  payload: Payload
  /** Name of the slice or collection that raised it. */
  from: string
  /** Object id in `from` (collections), `undefined` for slices. */
  id: string | undefined
  /** The signalling block's author (hex). */
  AUTHOR: string
  /** The signalling block's chain id (hex). */
  CHAIN: string
  /** The signalling block's date (ms since the epoch). */
  date: number
}

/** What every filter, reducer and `compute` receives about the block being dispatched. */
export interface BlockContext<S = unknown> {
  /** The block. */
  block: Block
  /**
   * The block before it in its chain; `undefined` for a genesis block, and also for a block
   * whose parent this store does not hold (the first block of a partial chain). Tell the two
   * apart with {@link BlockContext.genesis}.
   */
  parentBlock: Block | undefined
  /**
   * True iff the block starts its chain: it has no parent-signature header (`psig`), so its
   * signature is the chain id. False for every other block, including one whose parent is
   * not held (`parentBlock` undefined). Rules such as "an object is created by the first
   * block of its own chain" check this, not `parentBlock`.
   */
  genesis: boolean
  /** Decoded block type. */
  type: string
  /** Decoded payload. */
  payload: Payload
  /** Decoded date, ms since the epoch (the author's clock; never the arrival time). */
  date: number
  /**
   * This store's time as it decides, ms since the epoch: its `clock` (a simulator's
   * virtual time), never `Date.now()` behind its back. A block is decided again at later
   * times (restart, reload), so a rule using it should only ever accept more as time
   * passes, e.g. "not dated more than a minute after now".
   */
  now: number
  /** The block author's public key, lowercase hex (64 chars). */
  AUTHOR: string
  /** Id of the block's chain (its genesis signature), lowercase hex (128 chars). */
  CHAIN: string
  /** The current state of the slice, or of the object (collections). */
  state: S
  /** Every slice's and collection's current state, by name (read-only). */
  root: Readonly<Record<string, unknown>>
  /** Rejects the block with a reason; return its result. */
  reject(reason?: string | Error): Rejection
  /** Asks to retry the block after `ms` (at most `retries` times, default 3); return its result. */
  postpone(ms: number, reason?: string, retries?: number): Postponement
  /** Raises a signal for the traps, delivered after this block is merged. */
  signal(type: string, payload?: Payload): void
  /** Block id (64 B) indexed under `key` by a collection (default: the current collection). */
  lookup(key: string | Uint8Array, collection?: string): Uint8Array | undefined
}

/** The context of a collection's `compute` and `expiresAt`. */
export interface ComputeContext<V = unknown> extends BlockContext<V> {
  /** The object's id (what `idOf` returned, as a string). */
  id: string
  /** Indexes this block under a secondary `key` for `lookup`, for as long as the object lives. */
  index(key: string | Uint8Array): void
  /**
   * Deletes the object this block is for; return its result from `compute`. Only honoured
   * for an object the store holds: `compute` decides who may delete (say, its author).
   */
  delete(): Deletion
}
