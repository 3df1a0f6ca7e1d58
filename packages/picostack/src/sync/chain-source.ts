import type { Block, Feed } from '@picostack/feed'
import type { ChainSummary, Repo } from '@picostack/repo'

/**
 * Everything the sync code reads of the kernel's chains: one narrow interface instead of
 * the whole repo (writes go through the store, `SessionHost.ingest`). The kernel's is
 * {@link repoChainSource}; a test may give another.
 */
export interface ChainSource {
  /** The chain `chainId` (64 B), or `undefined` when none is held. */
  summary(chainId: Uint8Array): Promise<ChainSummary | undefined>
  /**
   * The chain ending at `headId` (64 B): every stored block, the newest `limit`, or the blocks
   * after the first one `stop` matches (excluded).
   */
  loadFeed(
    headId: Uint8Array,
    limit?: number | ((block: Block) => boolean),
  ): Promise<Feed | undefined>
  /** The id (64 B) of the chain holding block `blockId`, or `undefined`. */
  chainOf(blockId: Uint8Array): Promise<Uint8Array | undefined>
  /** Every chain held (version 1 summaries only: it loads them all). */
  allChains(): Promise<ChainSummary[]>
}

/** The {@link ChainSource} of a repo. */
export function repoChainSource(repo: Repo): ChainSource {
  return {
    summary: (chainId) => repo.summary(chainId),
    loadFeed: (headId, limit) => repo.loadFeed(headId, limit),
    chainOf: (blockId) => repo.chainOf(blockId),
    allChains: () => repo.listFeeds(),
  }
}
