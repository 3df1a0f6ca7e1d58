import { type Block, bytesEqual } from '@picostack/feed'
import { type RepoContext, VIEW } from './context.ts'
import { RepoPartialWriteError } from './errors.ts'
import { evictAfter } from './evict.ts'
import { placementKey } from './layout.ts'
import { genesisStored } from './records.ts'
import type { RegistryOp } from './registry.ts'
import { mapKey, type WriteSet } from './write-set.ts'

// The write path of Repo.merge / writeBlocks: where each block goes (fast-forward, fork,
// foreign append, partial chain, held, evicted prefix), in batches of whole blocks.

/** Blocks per write batch during a merge (each block is whole inside one batch). */
const GROUP_BLOCKS = 1024

type Step = 'written' | 'held' | 'evicted' | 'stop'

/** One merge or writeBlocks call: its placement options and strategy. */
export interface WriteRun {
  /** Chain id of a partial chain the first block with an unknown parent may start. */
  chainId?: Uint8Array
  /** Height of that first block (genesis = 1); without it the chain's height is unknown. */
  height?: number
  /** Whether a fork or foreign append may be written (the repo's strategy, bound to it). */
  strategy: (block: Block) => boolean | Promise<boolean>
  /** Ids of blocks found to lie in an evicted prefix (their children are skipped too). */
  evicted: Set<string>
}

/**
 * Writes `blocks` in order in batches of up to {@link GROUP_BLOCKS}. With `ops` (one list
 * per block: Repo.writeBlocks) the run stops at the first block not written and returns how
 * many were; without (a Repo.merge), held and evicted-prefix blocks are skipped and the
 * count is of blocks written. The caller holds the repo's write lock.
 * @throws REPO_PARTIAL_WRITE when it fails after one of its batches was written
 */
export async function write(
  ctx: RepoContext,
  blocks: readonly Block[],
  ops: RegistryOp[][] | undefined,
  run: WriteRun,
): Promise<number> {
  const ws = await ctx.writeSet()
  try {
    return await writeGroups(ctx, blocks, ops, run, ws)
  } catch (cause) {
    // Every batch is atomic, so what is on disk is exactly the batches written before.
    if (ws.committed === undefined) throw cause
    throw new RepoPartialWriteError(ws.committed, { cause })
  }
}

/** The body of {@link write}, on its write set. */
async function writeGroups(
  ctx: RepoContext,
  blocks: readonly Block[],
  ops: RegistryOp[][] | undefined,
  run: WriteRun,
  ws: WriteSet,
): Promise<number> {
  let written = 0
  for (let start = 0; start < blocks.length; start += GROUP_BLOCKS) {
    const end = Math.min(blocks.length, start + GROUP_BLOCKS)
    // The chain records of the group's geneses (new chains, mostly), read at once.
    const geneses: Uint8Array[] = []
    for (let i = start; i < end; i++) if (blocks[i]!.genesis) geneses.push(blocks[i]!.sig)
    if (geneses.length > 1) await ctx.cacheChains(geneses, ws)
    // Which blocks of the group are held, read at once when the first one needs it.
    let held: Promise<boolean[]> | undefined
    const heldIn = () =>
      (held ??= ctx.db.hasMany(
        blocks.slice(start, end).map((b) => placementKey(b.sig)),
        VIEW,
      ))
    for (let i = start; i < end; i++) {
      const block = blocks[i]!
      let result: Step = 'written'
      if (extendsTip(ctx, block, ws)) ws.append(ws.tip!, block, true)
      else if (block.genesis && ctx.chainKnownAbsent(block.sig, ws)) {
        // What step does for a genesis of a chain not stored, without an await (a fresh
        // peer's one-block chains, whose records the group read at once).
        ws.startChain(block, block.sig, 1, true)
      } else result = await step(ctx, block, ws, run, async () => (await heldIn())[i - start]!)
      if (result === 'written') {
        written++
        if (ops) ws.addRegistryOps(ops[i]!)
      } else if (result === 'stop' || ops) {
        await ctx.flush(ws)
        return written
      }
    }
    await ctx.flush(ws)
  }
  return written
}

/**
 * Decides where `block` goes and adds it to `ws`, asking the strategy when required.
 * `isHeld` is asked only when the block could be held: a block whose parent is its chain's
 * head is new, unless it started a partial chain (then it is that chain's first block).
 */
async function step(
  ctx: RepoContext,
  block: Block,
  ws: WriteSet,
  run: WriteRun,
  isHeld: () => Promise<boolean>,
): Promise<Step> {
  const id = block.sig
  if (block.genesis) {
    // A chain under this id: the genesis is held (its chain record says so: a genesis has
    // no placement record), or was evicted (or never held), or the chain was only claimed
    // (a partial chain): the genuine genesis replaces the claim.
    const chain = await ctx.chain(id, ws)
    if (chain?.claimed) {
      await evictAfter(ctx, ws, chain, 0)
      // Written now, so that the blocks after the genesis are placed against the disk
      // without the claimed chain (some of them may have been in it).
      await ctx.flush(ws)
    } else if (chain) return genesisStored(chain) ? 'held' : skipEvicted(id, run)
    ws.startChain(block, id, 1, true)
    return 'written'
  }
  const parent = await ctx.placement(block.psig, ws)
  if (!parent) {
    if (await isHeld()) return 'held'
    // A chain under the parent's id whose genesis was held: the parent was evicted, and
    // so is the block. A claimed chain under that id proves nothing of the parent (its
    // genesis was never held): the block goes where it would without that claim.
    if (run.evicted.has(mapKey(block.psig)) || (await chainProven(ctx, block.psig, ws))) {
      return skipEvicted(id, run)
    }
    if (run.chainId && !(await ctx.chain(run.chainId, ws))) {
      // A block with a parent is never at height 1 (the genesis is): that claim says
      // nothing, as if no height were given (a sender whose own height is unknown).
      const known = run.height !== undefined && run.height > 1
      ws.startChain(block, run.chainId, known ? run.height! : 1, known)
      ctx.partialStarts.add(mapKey(id))
      return 'written'
    }
    return 'stop'
  }
  const chain = await ctx.placedChain(parent, ws)
  const fastForward = parent.height === chain.headHeight
  if ((!fastForward || ctx.partialStarts.has(mapKey(id))) && (await isHeld())) return 'held'
  if (fastForward && bytesEqual(block.key!, chain.author)) {
    ws.append(chain, block)
    return 'written'
  }
  // A fork or a foreign append: the strategy sees the repo with everything before it.
  await ctx.flush(ws)
  if (!(await run.strategy(block))) return 'stop'
  if (!fastForward) await evictAfter(ctx, ws, chain, parent.height)
  ws.append(chain, block)
  return 'written'
}

/**
 * True when `block` is the owner's fast-forward of the chain the last block went to: what
 * {@link step} would write, decided without a read or an await (the merge hot path).
 */
function extendsTip(ctx: RepoContext, block: Block, ws: WriteSet): boolean {
  const tip = ws.tip
  return (
    tip !== undefined &&
    !block.genesis &&
    bytesEqual(block.psig, tip.headId) &&
    bytesEqual(block.key!, tip.author) &&
    (ctx.partialStarts.size === 0 || !ctx.partialStarts.has(mapKey(block.sig)))
  )
}

/** True when a chain under `chainId` is stored and its id was proven by its genesis. */
async function chainProven(ctx: RepoContext, chainId: Uint8Array, ws: WriteSet): Promise<boolean> {
  const chain = await ctx.chain(chainId, ws)
  return chain !== undefined && !chain.claimed
}

function skipEvicted(id: Uint8Array, run: WriteRun): Step {
  run.evicted.add(mapKey(id))
  return 'evicted'
}
