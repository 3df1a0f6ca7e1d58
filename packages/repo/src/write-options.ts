/** The options of the repo's write calls, and the merge strategies they are decided by. */
import type { Block } from '@picostack/feed'
import type { RegistryOp } from './registry.ts'
import type { Repo } from './repo.ts'
import type { WriteRun } from './write-path.ts'

/**
 * Decides whether a fork, or an append by someone other than the chain's owner, may be
 * written. Called with the repo holding everything written before `block`. It may read the
 * repo but must not write to it (the write would wait for the merge that called it).
 */
export type MergeStrategy = (block: Block, repo: Repo) => boolean | Promise<boolean>

/** Options of {@link Repo.merge} and {@link Repo.writeBlock} for partial chains. */
export interface PlacementOptions {
  /**
   * Chain id of a partial chain: a block whose parent is unknown starts it, but only while
   * the repo holds nothing of that chain. Without it, an unknown parent stops the write.
   */
  chainId?: Uint8Array
  /** Height of that first block (genesis = 1); without it the chain's height is unknown. */
  height?: number
}

/** Options of {@link Repo.writeBlock}. */
export interface WriteBlockOptions extends PlacementOptions {
  /** Overrides the repo's strategy for this block. */
  strategy?: MergeStrategy
  /** Registry operations written in the same atomic batch as the block (only if it is written). */
  ops?: RegistryOp[]
}

/** One block for {@link Repo.writeBlocks} and the registry ops written with it. */
export interface BlockWrite {
  /** The block (its chain's blocks in order, one write after the other). */
  block: Block
  /** Registry operations written in the same atomic batch as the block (only if it is written). */
  ops?: RegistryOp[]
}

/** Options of {@link Repo.writeBlocks}. */
export interface WriteBlocksOptions extends PlacementOptions {
  /** Overrides the repo's strategy for these blocks. */
  strategy?: MergeStrategy
  /**
   * The caller already verified every block's signature (e.g. with `Feed.fromAsync` or
   * {@link verifyBlocks}): the repo does not check them again. Blocks must still carry
   * their author header. Never set it for bytes you did not verify yourself.
   */
  verified?: boolean
}

/** Options of {@link Repo} */
export interface RepoOptions {
  /** Default strategy for forks and foreign appends; default: refuse them all. */
  strategy?: MergeStrategy
}

/** The default strategy: refuses every fork and foreign append. */
export const refuseAll: MergeStrategy = () => false

/** One write call's placement and `strategy`, bound to `repo`. */
export function writeRun(options: PlacementOptions, strategy: MergeStrategy, repo: Repo): WriteRun {
  return {
    chainId: options.chainId,
    height: options.height,
    strategy: (block) => strategy(block, repo),
    evicted: new Set(),
  }
}
