/** The options and results of the store's public operations (no logic here). */
import type { Block } from '@picostack/feed'
import type { ChainSummary, MergeStrategy } from '@picostack/repo'
import type { BlockCodec } from './body-codec.ts'
import type { Clock } from './clock.ts'
import type { StoreErrorCode } from './errors.ts'
import type { MempoolLimits } from './mempool.ts'

/** Options of `new Store()`. */
export interface StoreOptions {
  /** Decodes block bodies (default: CBOR `[type, payload, date]`, see `encodeBlock`). */
  codec?: BlockCodec
  /** Time source and timer (default: the system clock). */
  clock?: Clock
  /** Bounds of the out-of-order mempool (default 1024 blocks, 10 minutes). */
  mempool?: Partial<MempoolLimits>
  /** Merge strategy for forks and foreign appends, passed to the repo (default: refuse). */
  strategy?: MergeStrategy
  /**
   * What the application calls to load this store, as named in the error a registration
   * after loading throws (default `'load()'`; `SimpleKernel` passes `'boot()'`).
   */
  loadCall?: string
  /**
   * Objects of each collection kept in memory between operations (least recently used
   * go first; default {@link DEFAULT_CACHE_OBJECTS}). The rest are read from disk when a
   * block needs them. A collection that keeps a snapshot (`Memory.snapshot`) also holds
   * every value in memory.
   */
  cacheObjects?: number
  /**
   * Storage budget: most bytes of held blocks (default: no limit). When a write takes the
   * store over it, whole chains, and the state they back, are dropped lowest rank first
   * (`rank`), down to 90% of it. The registry keys describing the state come on top
   * (see layout.ts: about 1 KB per block before the database compresses it for a to-do
   * task, half of it the object's own record).
   */
  maxRepoBytes?: number
  /**
   * Rank of a chain for the storage budget (higher = kept longer). Default: the soonest
   * expiry of what the chain backs (a chain that expires first goes first; one that
   * backs only what never expires goes last). Called with the chain's summary.
   */
  rank?: (chain: ChainSummary) => number | Promise<number>
}

/** Objects per collection the store keeps in memory by default: 4,096. */
export const DEFAULT_CACHE_OBJECTS = 4096
/** Options of {@link Store.dispatch}. */
export interface DispatchOptions {
  /** Throw a `StoreError` when a block is refused (default false: return what merged). */
  loud?: boolean
  /**
   * Chain id (64 B) of a partial chain whose first blocks this store never saw (the sync
   * layer has it from the sender's summary): when the patch's first parent is unknown and
   * the store holds nothing of that chain, the patch starts a partial chain under this id.
   */
  chainId?: Uint8Array
  /**
   * Height of the patch's first block in its chain (genesis = 1), for a partial chain that
   * `chainId` starts: the repo then knows the chain's real heights.
   */
  height?: number
  /**
   * The caller already verified every block's signature (a `Feed` made by `Feed.fromAsync`
   * or checked with `verifyBlocks`): the store does not check them again. Honoured only
   * when the patch is a `Feed` instance; bytes and blocks are always verified.
   */
  verified?: boolean
}

/** Why a dispatch did not merge its whole patch. */
export interface Refusal {
  /** `STORE_REJECTED`, `STORE_INVALID_PATCH` (a forged block), `STORE_POSTPONED`, ... */
  code: StoreErrorCode
  /** The application's reason, or the store's. */
  reason: string
}

/** What {@link Store.apply} did with a patch. */
export interface DispatchResult {
  /** The blocks merged, in chain order (empty when none were). */
  merged: readonly Block[]
  /** The chain (its id, 64 B) the merged blocks belong to; `undefined` when none merged. */
  chainId: Uint8Array | undefined
  /** Why the patch stopped short, if it did (blocks already held are not a refusal). */
  refusal: Refusal | undefined
}

/** What a garbage collection did. */
export interface GcResult {
  /** Objects and slice entries forgotten. */
  expired: number
  /** Blocks deleted from the repo. */
  evicted: number
}
