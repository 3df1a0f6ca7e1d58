import type { Block } from './block.ts'
import { DEFAULT_LIMITS, type FeedLimits } from './codec.ts'
import { FeedError } from './errors.ts'
import type { Feed } from './feed.ts'

/** Anything a feed can be made from: a feed, a block, blocks in chain order, or bytes. */
export type FeedLike = Feed | Block | readonly Block[] | Uint8Array | ArrayBuffer

/** Options of `new Feed()`. */
export interface FeedOptions {
  /** Size limits; unset fields take {@link DEFAULT_LIMITS}. */
  limits?: Partial<FeedLimits>
}

/** Options of {@link Feed.from}. */
export interface FeedFromOptions extends FeedOptions {
  /** Verify every signature (default `true`). Parent links are always checked. */
  verify?: boolean
  /**
   * Copy the input bytes (default `true`). With `false`, a byte input that starts with
   * the `PIC0` magic is used in place: blocks are views into it, so the caller must not
   * change it afterwards. Appending never writes into it.
   */
  copy?: boolean
}

/**
 * `limits` over {@link DEFAULT_LIMITS}.
 * @throws FEED_INVALID_INPUT for a limit that is not a positive integer
 */
export function resolveLimits(limits: Partial<FeedLimits> | undefined): FeedLimits {
  if (!limits || limits === DEFAULT_LIMITS) return DEFAULT_LIMITS
  // A frozen input cannot change: its checked result is reused (a feed per stored chain
  // read passes the same limits; the spread and the check cost ~0.5 us per feed).
  const frozen = Object.isFrozen(limits)
  const known = frozen ? resolvedFrozen.get(limits) : undefined
  if (known) return known
  const out = { ...DEFAULT_LIMITS, ...limits }
  for (const [name, value] of Object.entries(out)) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new FeedError('FEED_INVALID_INPUT', `limit ${name} must be a positive integer`)
    }
  }
  if (frozen) resolvedFrozen.set(limits, out)
  return out
}

/** {@link resolveLimits} of frozen inputs, by input. */
const resolvedFrozen = new WeakMap<Partial<FeedLimits>, FeedLimits>()
