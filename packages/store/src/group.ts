/**
 * Group commit: the patches waiting for the store are applied as groups, each under the
 * one lock turn the store gives them, with one read of the held records of all their
 * blocks (and of the object each genesis most likely makes: {@link readHeld}) and one repo
 * write (`repo.writeBlocks`: one atomic batch for up to
 * {@link GROUP_BLOCKS} blocks) instead of one of each per patch.
 *
 * Each patch of a group goes through the in-memory phases in call order and sees the ones
 * before it (dispatch.ts, {@link prepare}), as if they were dispatched one by one; then
 * their writes go to the repo in one call, then each patch's aftermath runs in order
 * ({@link finish}). When the repo writes only a prefix, the patch it stopped in keeps the
 * part written (as alone) and the patches after it are taken back from the journal
 * (newest first) and dispatched again: their results are those of a dispatch one by one.
 * When the call fails with nothing written, the first patch is dispatched alone and the
 * others after it, so that a failure (a full disk, a block the repo refuses) is the one
 * patch's own, with its own retry after a full disk.
 *
 * A group ends early (the rest form the next group, in the same lock turn) after a patch
 * whose blocks wait for their parent (they go to the mempool in its aftermath, which the
 * next patches may read), after one that only writes end ops (their batch is its
 * aftermath's), when the held bytes are over the budget (the budget is checked after the
 * last patch of a group only: before it, no patch of the group went over), and before a
 * genesis that replaces a claimed partial chain or a patch that starts a partial chain
 * (the repo takes one such placement per call): those come first in their own group.
 *
 * What differs from one by one: the observers of each patch are told the values it left
 * (consumers.ts, `notice`), but they are called once the whole group is written, and
 * what they read of the store then may include later patches of the group; the
 * aftermath's eviction of dead prefixes sees the later patches' memory too (the state it
 * leaves is the same).
 */

import { type Block, bytesEqual, toHex } from '@picostack/feed'
import { type BlockWrite, RepoPartialWriteError } from '@picostack/repo'
import { enforceBudget, isQuotaExceeded, lowerBudget } from './budget.ts'
import type { Core } from './core.ts'
import {
  discard,
  finish,
  type Patch,
  type PatchResult,
  type PatchRun,
  type Placement,
  prepare,
  refuse,
} from './dispatch.ts'
import { heldMany } from './held.ts'
import { joinClaims, mayBeClaimed, mayBeParent } from './joins.ts'
import { claimKey, joinsKey } from './layout.ts'
import { cacheObjectOrTombstone, objectReads } from './objects.ts'
import { replay } from './replay.ts'
import type { Table } from './tables.ts'
import { decodeAhead } from './verdict.ts'

/** Blocks of one group, at most (the repo writes up to 1,024 whole blocks per batch). */
export const GROUP_BLOCKS = 1024

/** What became of one patch of a group: its result, or the error it threw. */
export type Outcome = { result: PatchResult } | { error: unknown }

/** Dispatches `patches` in order, as groups; one outcome per patch, in the same order. */
export async function dispatchGroup(core: Core, patches: readonly Patch[]): Promise<Outcome[]> {
  const outcomes: Outcome[] = []
  while (outcomes.length < patches.length) {
    outcomes.push(...(await commit(core, patches.slice(outcomes.length))))
  }
  return outcomes
}

/**
 * Validates and applies `blocks` (one chain) alone; `tries`: retries a postponed patch used.
 * Returns what merged and why it stopped.
 * @throws REPO_* when the repo fails to read
 */
export async function dispatchBlocks(
  core: Core,
  blocks: readonly Block[],
  tries: number,
  placement: Placement,
): Promise<PatchResult> {
  const [outcome] = await dispatchGroup(core, [{ blocks, tries, placement }])
  if (!outcome || 'error' in outcome) throw outcome?.error
  return outcome.result
}

/**
 * One group from the start of `patches`: returns the outcomes of the patches it settled
 * (at least the first one); the rest are dispatched again.
 */
async function commit(core: Core, patches: readonly Patch[]): Promise<Outcome[]> {
  let take = 0
  for (let blocks = 0; take < patches.length; take++) {
    blocks += patches[take]!.blocks.length
    if (take > 0 && blocks > GROUP_BLOCKS) break
  }
  const candidates = patches.slice(0, take)
  const keys = candidates.map((patch) => patch.blocks.map((b) => toHex(b.sig)))
  let claims: (Uint8Array | undefined)[]
  const joins = new Map<string, Uint8Array | undefined>()
  try {
    claims = await readHeld(core, candidates, keys, joins)
  } catch (error) {
    return [{ error }]
  }
  const members: PatchRun[] = []
  const unwritten = new Map<string, Block>() // the members' blocks, by id as hex
  for (const [i, patch] of candidates.entries()) {
    // Replacing a claimed chain writes (and may replay) at once: before it, nothing pending.
    if (i > 0 && claims[i]) break
    let run: PatchRun
    try {
      run = await prepare(core, patch, keys[i]!, claims[i], joins, unwritten)
    } catch (error) {
      if (members.length === 0) return [{ error }]
      break // tried again first in the next group
    }
    if (run.partial && members.length > 0) {
      discard(core, run) // its placement needs its own repo call: first of the next group
      break
    }
    members.push(run)
    for (const record of run.pending) unwritten.set(record.key, record.block)
    const endOnly = run.writes.length === 0 && run.tx.endOps.length > 0
    if (run.orphan || run.partial || endOnly || core.heldBytes > core.maxRepoBytes) break
  }
  const first = members[0]!
  const { written, cause, forked } = await write(
    core,
    members.flatMap((run) => run.writes),
    first,
  )
  if (cause !== undefined && written === 0 && members.length > 1) {
    // Nothing written: the first patch alone, so that the failure is its own (or not).
    for (const run of members.reverse()) discard(core, run)
    return commit(core, patches.slice(0, 1))
  }
  let left = written
  let stopAt = members.length // the first patch not written whole
  const counts = members.map((run, k) => {
    const count = Math.min(left, run.writes.length)
    left -= count
    if (count < run.writes.length && stopAt === members.length) stopAt = k
    return count
  })
  const settled = Math.min(stopAt + 1, members.length)
  for (let k = members.length - 1; k >= settled; k--) discard(core, members[k]!)
  if (stopAt < members.length) refuse(core, members[stopAt]!, counts[stopAt]!, cause)
  if (forked) {
    // The repo let a fork in and evicted the blocks after its parent: those the store
    // applied go, and the state is what the blocks still held give (observers are told
    // the values as they are then).
    try {
      await replay(core)
    } catch (error) {
      return members.slice(0, settled).map(() => ({ error }))
    }
    for (const run of members.slice(0, settled)) run.notice = undefined
  }
  const outcomes: Outcome[] = []
  for (let k = 0; k < settled; k++) {
    const run = members[k]!
    try {
      const retry = k === stopAt && counts[k] === 0 && isQuotaExceeded(cause)
      const result = await settle(core, run, counts[k]!, retry, k === settled - 1)
      await joinClaims(core, result.merged, joins, (blocks) =>
        dispatchBlocks(core, blocks, 0, { verified: true }),
      )
      outcomes.push({ result })
    } catch (error) {
      outcomes.push({ error })
    }
  }
  return outcomes
}

/**
 * Reads, in one read, the held records of every block of `patches` (and of each first
 * block's parent) into the cache, the claim marker of each chain a genesis starts, into
 * `joins` the `q` value of each block (and of the first block's parent when the patch may
 * start a partial chain), by block id as hex (those two only for ids `core.claims` may
 * list: joins.ts), and into the collections' caches the object
 * each first block most likely changes ({@link guessObject}), so that a new chain
 * creating one object costs one read.
 * @returns each patch's claim marker value (`undefined`: none)
 */
async function readHeld(
  core: Core,
  patches: readonly Patch[],
  keys: string[][],
  joins: Map<string, Uint8Array | undefined>,
): Promise<(Uint8Array | undefined)[]> {
  const wanted: string[] = []
  const wantedIds: Uint8Array[] = []
  const also: Uint8Array[] = []
  const claimed: [patch: number, at: number][] = []
  const guessed: [table: Table, id: string, at: number][] = []
  const joined: [blockKey: string, at: number][] = []
  const join = (blockKey: string, id: Uint8Array) => {
    joined.push([blockKey, also.length])
    also.push(joinsKey(id))
  }
  for (const [i, patch] of patches.entries()) {
    for (const [j, block] of patch.blocks.entries()) {
      wanted.push(keys[i]![j]!)
      wantedIds.push(block.sig)
    }
    for (const [j, block] of patch.blocks.entries()) {
      if (mayBeParent(core, keys[i]![j]!)) join(keys[i]![j]!, block.sig)
    }
    const first = patch.blocks[0]
    if (!first) continue
    if (first.genesis) {
      if (mayBeClaimed(core, keys[i]![0]!)) {
        claimed.push([i, also.length])
        also.push(claimKey(first.sig))
      }
    } else {
      const parentKey = toHex(first.psig)
      wanted.push(parentKey)
      wantedIds.push(first.psig)
      if (patch.placement.chainId && mayBeParent(core, parentKey)) join(parentKey, first.psig)
    }
    const guess = guessObject(core, first, keys[i]![0]!)
    const reads = guess ? objectReads(core, guess.table, guess.id) : []
    if (guess && reads.length > 0) guessed.push([guess.table, guess.id, also.length])
    also.push(...reads)
  }
  // The repo reads ahead, in the same read, what writing the new chains' geneses looks up.
  const geneses = patches.flatMap((patch) => (patch.blocks[0]?.genesis ? [patch.blocks[0]] : []))
  const values = (await heldMany(core, wanted, also, wantedIds, geneses)).also
  for (const [table, id, at] of guessed) {
    await cacheObjectOrTombstone(core, table, id, values.slice(at, at + 2))
  }
  for (const [blockKey, at] of joined) joins.set(blockKey, values[at])
  const out: (Uint8Array | undefined)[] = new Array(patches.length)
  for (const [i, at] of claimed) out[i] = values[at]
  return out
}

/**
 * The object a block (`blockKey`: its id, hex) most likely changes: in the collection its
 * body's type names, the object whose id is its chain's id (`idOf` returning `CHAIN`): a
 * genesis's own id (also `idOf` returning the block's id), else the chain of its parent
 * when that record is cached. A guess only fills a cache: when `idOf` says otherwise,
 * that object is read as usual. None when the body does not decode or the chain is not
 * known yet.
 */
function guessObject(
  core: Core,
  block: Block,
  blockKey: string,
): { table: Table; id: string } | undefined {
  const id = block.genesis ? blockKey : core.held.get(toHex(block.psig))?.chain
  if (id === undefined) return undefined
  try {
    const table = core.consumers.tables.get(decodeAhead(core, block).type)
    return table && { table, id }
  } catch {
    return undefined // refused STORE_DECODE when it is applied
  }
}

/**
 * The group's writes to the repo in one call (with the placement of `first` when it starts
 * a partial chain: then it is the group's only patch). `written`: how many are on disk (a
 * prefix), also when it failed; `forked`: the strategy let in a fork (a block whose parent
 * was not its chain's head), so the repo evicted the blocks after that parent.
 */
async function write(
  core: Core,
  writes: BlockWrite[],
  first: PatchRun,
): Promise<{ written: number; cause?: unknown; forked: boolean }> {
  let forked = false
  if (writes.length === 0) return { written: 0, forked }
  const { partial } = first
  const { strategy } = core
  try {
    const written = await core.repo.writeBlocks(writes, {
      // Asked for forks and foreign appends only, with the repo as it is before the block.
      strategy:
        strategy &&
        (async (block, repo) => {
          if (!(await strategy(block, repo))) return false
          const chainId = await repo.chainOf(block.psig)
          const head = chainId && (await repo.summary(chainId))?.headId
          if (head && !bytesEqual(head, block.psig)) forked = true
          return true
        }),
      verified: true, // checked in prepare, or before they entered the mempool
      ...(partial ? { chainId: partial, height: first.patch.placement.height } : {}),
    })
    return { written, forked }
  } catch (cause) {
    // A run of several batches that failed part way: its first `written` blocks (with
    // their ops) are on disk, and memory keeps exactly them.
    return {
      written: cause instanceof RepoPartialWriteError ? cause.written : 0,
      cause,
      forked,
    }
  }
}

/**
 * A patch after the group's write, `written` of its blocks on disk. `retry`: the disk was
 * full and none of it was written: once per patch, the budget becomes what is held now
 * less 10% (the lowest-ranked chains go) and the patch is dispatched again. `budget`: the
 * last patch of its group checks the storage budget.
 */
async function settle(
  core: Core,
  run: PatchRun,
  written: number,
  retry: boolean,
  budget: boolean,
): Promise<PatchResult> {
  const { blocks, tries, placement } = run.patch
  if (retry && !placement.retried && core.heldBytes > 0) {
    lowerBudget(core)
    await enforceBudget(core)
    return dispatchBlocks(core, blocks, tries, { ...placement, retried: true })
  }
  return finish(core, run, written, budget)
}
