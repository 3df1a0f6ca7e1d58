/**
 * The state one store's modules share: the repo and its registry, the options, the
 * consumers, the caches of held-block records and chain heads, and the counters. It holds
 * data only; the modules (held.ts, objects.ts, changes.ts, decide.ts, dispatch.ts,
 * forget.ts, replay.ts, budget.ts) act on it.
 */

import type { Block } from '@picostack/feed'
import type { MergeStrategy, Registry, Repo } from '@picostack/repo'
import type { BlockCodec, DecodedBody } from './body-codec.ts'
import type { Clock } from './clock.ts'
import type { Consumers } from './consumers.ts'
import type { Mempool } from './mempool.ts'
import type { StoreOptions } from './options.ts'
import type { HeldBlock } from './records.ts'

/** Held-block records kept in memory between operations. */
export const HELD_CACHE = 16_384
/** Chain heads kept in memory (the likely parents of the next blocks). */
export const HEADS_CACHE = 1024
/**
 * Most ids {@link Core.claims} lists; beyond, the set is dropped and every block's `p` and
 * `q` keys are read (until the next `load()`).
 */
export const CLAIMS_CACHE = 4096

/** What the modules of one store share. */
export interface Core {
  readonly repo: Repo
  /** `repo.registry('store')`: every key of layout.ts. */
  readonly registry: Registry
  readonly codec: BlockCodec
  readonly clock: Clock
  readonly strategy: MergeStrategy | undefined
  readonly cacheObjects: number
  readonly rank: StoreOptions['rank']
  /** The storage budget; a full disk (QuotaExceededError) lowers it. */
  maxRepoBytes: number
  readonly consumers: Consumers
  readonly mempool: Mempool
  /** Held-block records read or changed lately (`null`: known not held); trimmed between operations. */
  readonly held: Map<string, HeldBlock | null>
  /** The newest block written to each of the chains written lately. */
  readonly heads: Map<string, Block>
  /**
   * Bodies decoded ahead (the group's read guesses a first block's object from its type),
   * each taken by the block's application (verdict.ts, `decodeOnce`).
   */
  readonly decoded: WeakMap<Block, DecodedBody>
  /** Bytes of the blocks held (persisted under the `z` key). */
  heldBytes: number
  /** Accept sequence number of the next block held. */
  nextSeq: number
  /** Sequence number of the next slice entry. */
  nextEntry: number
  /** The earliest persisted timer (it may have gone since: then a gc finds nothing due). */
  nextTimerAt: number
  /** While replaying, nothing on disk is state yet: a cache miss means absent. */
  replaying: boolean
  /**
   * Every block id (hex) that may have a `p` or `q` key on disk (a superset: a key that
   * went may stay listed), read at `load()` and grown as they are written, while they are
   * at most {@link CLAIMS_CACHE}; `undefined` when more (or before `load()`): then they are
   * read. A block id not listed has neither key, so it costs no read (joins.ts).
   */
  claims: Claims | undefined
}

/** The block ids (hex) that may have a `p` key (`claimed`) or a `q` key (`parents`). */
export interface Claims {
  readonly claimed: Set<string>
  readonly parents: Set<string>
}

/** Between operations: every cache back under its bound (what is dropped is on disk). */
export function trimCaches(core: Core): void {
  for (const table of core.consumers.tables.values()) table.trim(core.cacheObjects)
  for (const [cache, limit] of [
    [core.held, HELD_CACHE],
    [core.heads, HEADS_CACHE],
  ] as const) {
    for (const k of cache.keys()) {
      if (cache.size <= limit) break
      cache.delete(k)
    }
  }
}
