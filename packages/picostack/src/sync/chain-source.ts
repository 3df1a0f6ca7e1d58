import type { Block, Feed } from '@picostack/feed'
import type { ChainSummary, ListedChain, Repo } from '@picostack/repo'

/** Count and fingerprint of one range of the reconciliation index (`@picostack/repo`). */
export interface RangeFingerprint {
  /** Items (proven chains) whose id starts with the range's prefix. */
  count: number
  /** 32 B: zeros when `count` is 0, the item's digest when 1, else the hash of the children. */
  fingerprint: Uint8Array
}

/** A page of chains in ascending chain id order (`Repo.listChains`). */
export interface ListChainsOptions {
  /** Nibbles (each 0..15): only chains whose id starts with them. */
  prefix?: Uint8Array
  /** A chain id (64 B): start strictly after it. */
  after?: Uint8Array
  /** Most chains in the page, 1 to 65 536. */
  limit: number
  /** True: only proven chains (the reconciliation items). */
  proven?: boolean
}

/**
 * Everything the sync code reads of the kernel's chains: one narrow interface instead of
 * the whole repo (writes go through the store, `SessionHost.ingest`). None of it loads more
 * than a page: the sync never lists the whole repo. The kernel's is `repoChainSource(repo)`.
 */
export interface ChainSource {
  /** The chain `chainId` (64 B), or `undefined` when none is held. */
  summary(chainId: Uint8Array): Promise<ChainSummary | undefined>
  /**
   * The chain ending at `headId` (64 B): every stored block, the newest `limit`, or the
   * blocks after the newest one `stop` matches (excluded).
   */
  loadFeed(
    headId: Uint8Array,
    limit?: number | ((block: Block) => boolean),
  ): Promise<Feed | undefined>
  /** The id (64 B) of the chain holding block `blockId`, or `undefined`. */
  chainOf(blockId: Uint8Array): Promise<Uint8Array | undefined>
  /** One page of chains in ascending id order. */
  listChains(options: ListChainsOptions): Promise<ChainSummary[]>
  /**
   * The same page, each chain with its stored blocks when it has at most `maxBlocks`
   * (1..16) of them (`feed` undefined otherwise). Two reads for the page.
   */
  listChainFeeds(options: ListChainsOptions & { maxBlocks: number }): Promise<ListedChain[]>
  /** Count and fingerprint of the range of `prefix` (nibbles), in O(1) reads. */
  rangeFingerprint(prefix: Uint8Array): Promise<RangeFingerprint>
  /** The 16 ranges `prefix||0` .. `prefix||15`, in order. */
  rangeChildren(prefix: Uint8Array): Promise<RangeFingerprint[]>
}

/** The {@link ChainSource} of a repo (its reconciliation index and chain pages). */
export function repoChainSource(repo: Repo): ChainSource {
  return {
    summary: (chainId) => repo.summary(chainId),
    loadFeed: (headId, limit) => repo.loadFeed(headId, limit),
    chainOf: (blockId) => repo.chainOf(blockId),
    listChains: (options) => repo.listChains(options),
    listChainFeeds: (options) => repo.listChainFeeds(options),
    rangeFingerprint: (prefix) => repo.rangeFingerprint(prefix),
    rangeChildren: (prefix) => repo.rangeChildren(prefix),
  }
}
