/**
 * The dispatch pipeline of one patch (a run of blocks of one chain), in two halves around
 * the write that group.ts does for a group of patches. {@link prepare}: pick the blocks
 * not held, verify their signatures, place them (parent held, a partial chain, or the
 * mempool), apply each in memory (decide.ts), drop an expired tail, and list the writes.
 * After the write: {@link refuse} takes back from the journal what the repo did not
 * write, {@link discard} takes back a whole patch, {@link finish} is the aftermath
 * (mempool, eviction, observers, budget). The phases share one {@link PatchRun}.
 */

import type { Block } from '@picostack/feed'
import { toHex } from '@picostack/feed'
import type { BlockWrite, RegistryOp } from '@picostack/repo'
import { verifyBlocks } from '@picostack/repo'
import { enforceBudget } from './budget.ts'
import { expireTouched } from './changes.ts'
import type { Notice } from './consumers.ts'
import type { Postponement } from './context.ts'
import type { Core } from './core.ts'
import { applyBlock } from './decide.ts'
import type { StoreErrorCode } from './errors.ts'
import { collect, evict } from './forget.ts'
import { bytesOp, heldCached, heldMany, heldOf, hold, METER_KEY } from './held.ts'
import { claimOps } from './joins.ts'
import { type HeldBlock, meterValue } from './records.ts'
import { replaceClaim } from './replay.ts'
import { Tx } from './tx.ts'
import { reasonOf } from './verdict.ts'

/** Where a patch may go, and whether its signatures are checked already. */
export interface Placement {
  /** Chain id (64 B) of the partial chain the blocks may start (the sync layer's word). */
  chainId?: Uint8Array
  /** Height of the first block in that chain. */
  height?: number
  /** Signatures already verified (mempool blocks always are: checked before they got there). */
  verified: boolean
  /** This is the one retry after the disk was full. */
  retried?: boolean
}

/** One patch as dispatched: its blocks, the retries a postponed patch used, its placement. */
export interface Patch {
  readonly blocks: readonly Block[]
  readonly tries: number
  readonly placement: Placement
}

/** Why a patch stopped: the refusal and the index of the block it stopped at. */
export interface Stop {
  code: StoreErrorCode
  reason: string
  index: number
  postpone?: Postponement
}

/** What a patch did: the blocks merged, why it stopped (if it did), the chain it went to. */
export interface PatchResult {
  merged: Block[]
  stop?: Stop
  chainId?: Uint8Array
}

/** One block applied in memory, waiting to be written. */
interface Pending {
  block: Block
  key: string
  held: HeldBlock
  ops: RegistryOp[]
  /** Journal length before this block. */
  mark: number
  /** The bytes held and the next accept seq once it is held (its `z` record, if not the last). */
  meter: [bytes: number, nextSeq: number]
}

/** The state of one patch through the pipeline's phases. */
export interface PatchRun {
  readonly patch: Patch
  readonly now: number
  /** The blocks to apply (not held yet), with their ids as hex. */
  fresh: readonly Block[]
  keys: string[]
  /** A forged block's refusal (the blocks before it go on). */
  forged?: Stop
  stop?: Stop
  /** The result of a patch that ended before its write (nothing of it to write). */
  early?: PatchResult
  /** The blocks wait for their parent: they go to the mempool in {@link finish}. */
  orphan: boolean
  /** The partial chain the blocks start, if they do. */
  partial?: Uint8Array
  parentHeld?: HeldBlock
  parentBlock?: Block
  chainId: Uint8Array
  chainKey: string
  readonly tx: Tx
  readonly pending: Pending[]
  /** The pending blocks with their ops, as the repo takes them (the last one carries the end ops). */
  writes: BlockWrite[]
  /** What the observers are told once the patch is written (the values as this patch left them). */
  notice?: Notice
  /** Index of the first block of an expired tail (not stored). */
  trimmedFrom: number
}

/**
 * The in-memory half of a patch, up to its writes: `blockKeys` are its blocks' ids as hex,
 * `claim` the value of the claim marker of the chain its genesis starts (layout.ts, read
 * by the caller with the held records), `joins` the `q` values read with them (layout.ts,
 * by block id as hex), `unwritten` the blocks applied before it and not
 * written yet (the patches before it in its group), by id as hex: a parent may be one. A
 * failure takes back what it changed in memory.
 */
export async function prepare(
  core: Core,
  patch: Patch,
  blockKeys: string[],
  claim: Uint8Array | undefined,
  joins: ReadonlyMap<string, Uint8Array | undefined>,
  unwritten: ReadonlyMap<string, Block>,
): Promise<PatchRun> {
  const run: PatchRun = {
    patch,
    now: core.clock.now(),
    fresh: [],
    keys: [],
    orphan: false,
    chainId: new Uint8Array(0),
    chainKey: '',
    tx: new Tx(),
    pending: [],
    writes: [],
    trimmedFrom: 0,
  }
  try {
    await pickFresh(core, run, blockKeys, claim)
    if (run.fresh.length === 0) run.early = { merged: [] }
    else if (!patch.placement.verified) await verify(run)
    if (!run.early && run.fresh.length === 0) run.early = { merged: [], stop: run.forged }
    if (!run.early) await place(core, run, unwritten)
    if (run.early) return run
    await applyAll(core, run)
    await trimExpired(core, run)
    run.writes = writesOf(core, run, joins)
    run.notice = core.consumers.notice(run.tx.changed, run.tx.objects)
    return run
  } catch (cause) {
    discard(core, run)
    throw cause
  }
}

/**
 * The blocks of the patch not held yet (after the newest held one, or before the oldest).
 * A genesis whose id names a claimed partial chain replaces that chain first.
 */
async function pickFresh(
  core: Core,
  run: PatchRun,
  blockKeys: string[],
  claim: Uint8Array | undefined,
): Promise<void> {
  const { blocks } = run.patch
  let keys = blockKeys
  let heldNow = heldCached(core, keys) ?? (await heldMany(core, keys)).held
  if (claim && (await replaceClaim(core, blocks[0]!, run.patch.placement.verified))) {
    heldNow = (await heldMany(core, keys)).held
  }
  let lastHeld = -1
  for (let i = keys.length - 1; i >= 0; i--) {
    if (heldNow[i]) {
      lastHeld = i
      break
    }
  }
  // None held (a new patch, mostly): the patch's own lists, not copies.
  let fresh =
    lastHeld === -1 ? blocks : lastHeld === blocks.length - 1 ? [] : blocks.slice(lastHeld + 1)
  keys = lastHeld === -1 ? keys : keys.slice(lastHeld + 1)
  if (lastHeld === blocks.length - 1) {
    // Nothing after the newest held block: what comes before it lies in an evicted prefix.
    const end = heldNow.findIndex((held) => held !== undefined)
    fresh = blocks.slice(0, end)
    keys = blockKeys.slice(0, end)
  }
  run.fresh = fresh
  run.keys = keys
}

/**
 * Signatures first: a forged block never reaches the application, the mempool or the
 * repo. The valid blocks before it are dispatched; it stops the patch.
 */
async function verify(run: PatchRun): Promise<void> {
  const bad = await verifyBlocks(run.fresh)
  if (bad < run.fresh.length) {
    const reason = `bad signature on block ${bad} of the patch`
    run.forged = { code: 'STORE_INVALID_PATCH', reason, index: bad }
    run.fresh = run.fresh.slice(0, bad)
    run.keys = run.keys.slice(0, bad)
  }
}

/**
 * Finds the patch's chain and parent. A patch whose parent is unknown (and that starts
 * no partial chain) is to wait in the mempool: its result says so. Blocks waiting in the
 * mempool for the patch's last block join it.
 */
async function place(
  core: Core,
  run: PatchRun,
  unwritten: ReadonlyMap<string, Block>,
): Promise<void> {
  const first = run.fresh[0]!
  const parentKey = first.genesis ? '' : toHex(first.psig)
  const parentHeld = parentKey ? await heldOf(core, parentKey) : undefined
  const orphan = parentKey !== '' && !parentHeld
  const { chainId } = run.patch.placement
  const partial =
    orphan && chainId?.length === 64 && !(await core.repo.summary(chainId)) ? chainId : undefined
  if (orphan && !partial) {
    // Nothing unverified waits in the mempool, nor a segment that ends in a forgery.
    if (run.forged) {
      run.early = { merged: [], stop: { ...run.forged, index: 0 } }
      return
    }
    run.orphan = true
    const reason = 'parent unknown: waiting in the mempool'
    run.early = { merged: [], stop: { code: 'STORE_POSTPONED', reason, index: 0 } }
    return
  }
  const waiting = run.forged ? [] : core.mempool.chainAfter(run.keys[run.keys.length - 1]!)
  if (waiting.length > 0) {
    run.fresh = [...run.fresh, ...waiting]
    run.keys = [...run.keys, ...waiting.map((b) => toHex(b.sig))]
  }
  const head = parentHeld ? core.heads.get(parentHeld.chain) : undefined
  const cached = head && toHex(head.sig) === parentKey ? head : unwritten.get(parentKey)
  run.parentBlock =
    !parentKey || partial ? undefined : (cached ?? (await core.repo.readBlock(first.psig)))
  run.partial = partial
  run.parentHeld = parentHeld
  // The blocks link, so they all go to the chain of the first one.
  run.chainId = parentHeld?.chainId ?? partial ?? first.sig
  run.chainKey = parentHeld?.chain ?? (partial ? toHex(partial) : run.keys[0]!)
}

/** Applies the blocks in memory, one by one, until one is refused. */
async function applyAll(core: Core, run: PatchRun): Promise<void> {
  const { tx, pending } = run
  let parentBlock = run.parentBlock
  for (const [index, block] of run.fresh.entries()) {
    const blockKey = run.keys[index]!
    const held: HeldBlock = {
      id: block.sig,
      key: blockKey,
      chain: run.chainKey,
      chainId: run.chainId,
      seq: core.nextSeq,
      refs: 0,
      objects: [],
      size: block.blockSize,
      genesis: block.genesis,
    }
    const mark = tx.journal.length
    const record: Pending = { block, key: blockKey, held, ops: [], mark, meter: [0, 0] }
    tx.ops = record.ops
    tx.applying = held
    core.held.set(blockKey, held)
    const verdict = await applyBlock(core, { block, parentBlock, held, tx, now: run.now })
    if (verdict.kind === 'stop') {
      tx.applying = undefined
      core.held.delete(blockKey)
      tx.undoTo(record.mark)
      run.stop = { code: verdict.code, reason: verdict.reason, index, postpone: verdict.postpone }
      break
    }
    core.nextSeq++
    hold(core, held, block, tx)
    record.meter = [core.heldBytes, core.nextSeq]
    pending.push(record)
    parentBlock = block
  }
  run.stop ??= run.forged
}

/**
 * Objects already expired go. Trailing blocks that back nothing then arrived expired: they
 * are not stored, and what they changed is taken back from the journal (with what expired
 * on their account: an update that arrived expired does not forget the object its stored
 * blocks made), so the state is the one the stored blocks give; then again for the rest.
 */
async function trimExpired(core: Core, run: PatchRun): Promise<void> {
  const { tx, pending } = run
  tx.ops = tx.endOps
  const endMark = tx.endOps.length
  run.trimmedFrom = pending.length
  for (;;) {
    if (tx.touched.size > 0) await expireTouched(core, tx, run.now)
    let from = pending.length
    while (from > 0 && pending[from - 1]!.held.refs === 0) from--
    if (from === pending.length) break
    tx.undoTo(pending[from]!.mark) // the expiry pass is journaled after every block
    tx.endOps.length = endMark
    for (const dropped of pending.splice(from)) core.held.delete(dropped.key)
    run.trimmedFrom = from
  }
  if (!run.stop && run.trimmedFrom < run.fresh.length) {
    const reason = 'the block is already expired'
    run.stop = { code: 'STORE_EXPIRED', reason, index: run.trimmedFrom }
  }
}

/**
 * The pending blocks as the repo writes them: each block whole with the ops of the state
 * it changed and the bytes held once it is (a batch may end after any block), the last
 * one also with the end ops and the bytes held now instead.
 */
function writesOf(
  core: Core,
  run: PatchRun,
  joins: ReadonlyMap<string, Uint8Array | undefined>,
): BlockWrite[] {
  const { pending, tx } = run
  if (pending.length === 0) return []
  const last = pending.length - 1
  if (run.partial) {
    // A partial chain is a claim its genuine genesis may replace, and its blocks join
    // their parent's chain once the parent is held (joins.ts): marked in the same batch.
    const { psig } = pending[0]!.block
    const parentKey = toHex(psig)
    const prior = joins.get(parentKey)
    pending[0]!.ops.push(...claimOps(core, run.partial, run.chainKey, psig, parentKey, prior))
  }
  return pending.map((record, i) => {
    const { ops, meter } = record
    if (i === last) ops.push(...tx.endOps, bytesOp(core))
    else ops.push(core.registry.putOp(METER_KEY, meterValue(meter[0], meter[1])))
    return { block: record.block, ops }
  })
}

/**
 * Takes the whole patch back from memory (its journal and its held blocks): the repo wrote
 * none of it, and it is dispatched again.
 */
export function discard(core: Core, run: PatchRun): void {
  run.tx.undoTo(0)
  for (const record of run.pending) core.held.delete(record.key)
}

/**
 * The repo wrote only the first `written` of the patch's blocks (`cause`: why not the
 * rest): memory is rolled back to what is on disk, and the patch stops there.
 */
export function refuse(core: Core, run: PatchRun, written: number, cause: unknown): void {
  run.tx.undoTo(run.pending[written]!.mark)
  for (const undone of run.pending.slice(written)) core.held.delete(undone.key)
  const unverified = (cause as { code?: string } | undefined)?.code === 'REPO_UNVERIFIED'
  run.stop = {
    code: unverified ? 'STORE_INVALID_PATCH' : 'STORE_WRITE',
    reason: cause ? `the repo refused it: ${reasonOf(cause)}` : 'the repo refused the block',
    index: written,
  }
}

/**
 * After the write, `written` of the patch's blocks on disk: heads, the mempool (what was
 * taken from it is gone; a postponed tail goes back with its retry time; an orphan goes
 * in), eviction of dead prefixes, observers, and the budget when `budget` (group.ts checks
 * it after the last patch of a group only).
 */
export async function finish(
  core: Core,
  run: PatchRun,
  written: number,
  budget: boolean,
): Promise<PatchResult> {
  const { pending, tx, now } = run
  if (run.orphan) await core.mempool.add(run.fresh, now)
  if (run.early) return run.early
  const merged = pending.slice(0, written).map((record) => record.block)
  // A chain's newest block is the likely parent of its next patch: keep it at hand.
  if (merged.length > 0) {
    const last = pending[merged.length - 1]!
    core.heads.delete(last.held.chain)
    core.heads.set(last.held.chain, last.block)
  }
  if (pending.length === 0 && tx.endOps.length > 0) await core.repo.batch(tx.endOps)
  if (core.mempool.size > 0) await core.mempool.remove(run.keys)
  let stop = run.stop
  const postponed = stop?.postpone
  const { tries } = run.patch
  if (stop && postponed) {
    if (tries < postponed.retries) {
      // Expired links before the postponed block wait with it: it needs them as parents.
      const from = Math.min(run.trimmedFrom, stop.index)
      await core.mempool.add(run.fresh.slice(from), now, tries + 1, now + postponed.ms)
    } else {
      stop = { ...stop, code: 'STORE_REJECTED', reason: `gave up: ${postponed.reason}` }
    }
  }
  let notice = run.notice
  if (merged.length < pending.length) {
    // The repo refused a block: memory was rolled back to what is on disk; what is due
    // there is forgotten the usual way.
    const gcTx = new Tx()
    await collect(core, now, gcTx)
    for (const [k, id] of gcTx.released) tx.released.set(k, id)
    for (const consumer of gcTx.changed) tx.changed.add(consumer)
    notice = undefined // the values changed since prepare: told as they are now
  }
  // Links (expired blocks kept for later live ones) at the start of a chain go at once.
  for (const record of pending.slice(0, merged.length)) {
    if (record.held.refs === 0) tx.released.set(record.held.chain, record.held.chainId)
  }
  if (tx.released.size > 0) await evict(core, tx.released)
  core.consumers.deliver(notice ?? core.consumers.notice(tx.changed, tx.objects))
  if (budget && core.heldBytes > core.maxRepoBytes) await enforceBudget(core)
  return { merged, stop, chainId: merged.length > 0 ? run.chainId : undefined }
}
