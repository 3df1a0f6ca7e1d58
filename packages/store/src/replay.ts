/**
 * Dropping a whole chain and the state it backs (a claimed partial chain that its genuine
 * genesis replaces, or the budget's lowest-ranked chain), and `reload()`: forgetting all
 * state and replaying every held block in accept order.
 */
import { type Block, toHex } from '@picostack/feed'
import { type RegistryOp, verifyBlocks } from '@picostack/repo'
import { expireTouched, forgetEntry, forgetObject, forgetTombstone } from './changes.ts'
import type { Core } from './core.ts'
import { applyBlock, recompute } from './decide.ts'
import { evict, readNextTimer } from './forget.ts'
import { blockBytes, bytesOp, chainHeld, unholdOps } from './held.ts'
import { claimKey, heldKey, releasedKey, TAG, tagRange, tombstoneKey } from './layout.ts'
import { cloneValue } from './memory.ts'
import { objectOf, tombstoneOf } from './objects.ts'
import { type HeldBlock, heldFrom, heldValue, tombstoneFrom, tombstoneOwner } from './records.ts'
import { Tx } from './tx.ts'

/**
 * When `first` is a genesis and this store holds a partial chain under its id (one that
 * a sender only claimed), the genuine genesis wins: the claimed chain's blocks leave the
 * repo and the state they backed is forgotten, before the genesis is applied. Objects
 * also backed by other chains' blocks are recomputed by a replay of the held blocks.
 * Nothing happens for a forged genesis, or when the chain was started by its genesis.
 * Called for a genesis whose id has a claim marker (`p`); returns true when it replaced
 * the claim.
 */
export async function replaceClaim(core: Core, first: Block, verified: boolean): Promise<boolean> {
  const summary = await core.repo.summary(first.sig)
  if (summary?.proven !== false) {
    // The claim went (its blocks were evicted) or was never one: its marker goes too.
    await core.repo.batch([core.registry.delOp(claimKey(first.sig))])
    return false
  }
  if (!verified && (await verifyBlocks([first])) !== 1) return false
  if (await dropChain(core, summary.chainId, false)) await replay(core)
  return true
}

/**
 * Drops chain `chainId` whole: its blocks leave the repo and the state they back is
 * forgotten, in one batch. `proven` false: the chain is a claimed partial chain (the
 * repo's `summary.proven`), which never holds its genesis, so that is not looked up.
 * Returns true when an object was also backed by blocks of other chains: then the caller
 * replays the held blocks to recompute it.
 */
export async function dropChain(core: Core, chainId: Uint8Array, proven = true): Promise<boolean> {
  const chainKey = toHex(chainId)
  const dropped = new Map<string, HeldBlock>()
  for await (const held of chainHeld(core, chainId, proven)) dropped.set(held.key, held)
  const tx = new Tx()
  let replayNeeded = false
  const { slices, tables } = core.consumers
  for (const slice of slices.values()) {
    for (const entry of [...slice.entries.values()]) {
      if (dropped.has(entry.blockKey)) await forgetEntry(core, slice, entry, tx)
    }
  }
  for (const held of [...dropped.values()]) {
    for (const [name, id] of [...held.objects]) {
      const table = tables.get(name)
      const tombstone = table && (await tombstoneOf(core, table, id))
      if (table && tombstone?.blockKey === held.key) {
        // Blocks of the deleted object held elsewhere may bring it back: a replay decides.
        await forgetTombstone(core, table, id, tx)
        replayNeeded = true
        continue
      }
      const entry = table && (await objectOf(core, table, id))
      if (!table || !entry) continue
      // Also backed by blocks that stay: its value is recomputed by a replay.
      for (const blockKey of entry.blocks) if (!dropped.has(blockKey)) replayNeeded = true
      await forgetObject(core, table, id, tx)
    }
  }
  for (const held of dropped.values()) {
    tx.ops.push(...unholdOps(core, held))
    core.held.set(held.key, null)
  }
  core.heldBytes -= await blockBytes(core, [...dropped.values()])
  tx.released.delete(chainKey)
  tx.ops.push(
    core.registry.delOp(releasedKey(chainId)),
    core.registry.delOp(claimKey(chainId)),
    bytesOp(core),
  )
  core.heads.delete(chainKey)
  for (const slice of tx.recompute) await recompute(core, slice, tx)
  await core.repo.rollback(chainId, undefined, { ops: tx.ops })
  if (replayNeeded) return true
  // Without a replay, what the forgotten state left backing nothing is dead. With one,
  // blocks of other chains that backed a forgotten object may back it again: the replay
  // recomputes their references and evicts only what is dead then.
  await evict(core, tx.released)
  core.consumers.notify(tx.changed, tx.objects)
  return false
}

/** Tags of every key derived from the held blocks (a replay writes them anew). */
const DERIVED = [
  TAG.slice,
  TAG.entry,
  TAG.object,
  TAG.order,
  TAG.count,
  TAG.backing,
  TAG.index,
  TAG.timer,
  TAG.held,
  TAG.released,
]

/**
 * `reload()` inside the lock: forgets all state and replays every held block in the
 * order it was first accepted, then forgets what is expired now and evicts blocks that
 * back nothing. The records of held blocks the repo no longer has (the blocks after a
 * fork's parent, which the repo evicted when its strategy let the fork in) go.
 */
export async function replay(core: Core): Promise<void> {
  const now = core.clock.now()
  const clear: RegistryOp[] = []
  for (const tag of DERIVED) {
    for await (const [k] of core.registry.entries(tagRange(tag))) {
      clear.push(core.registry.delOp(k.slice()))
    }
  }
  const { slices, tables, root } = core.consumers
  for (const slice of slices.values()) {
    slice.value = cloneValue(slice.spec.initialValue)
    root[slice.spec.name] = slice.value
    slice.entries.clear()
  }
  for (const table of tables.values()) {
    for (const id of Object.keys(table.values)) delete table.values[id]
    table.cache.clear()
    table.tombstones.clear()
    table.count = 0
    table.index.clear()
  }
  // Tombstones stay (the deleted objects' blocks may be gone); each delete block backs
  // its own again when it is replayed.
  for await (const [k, value] of core.registry.entries(tagRange(TAG.tombstone))) {
    const { name, id } = tombstoneOwner(k)
    tables.get(name)?.tombstones.set(id, tombstoneFrom(value))
  }
  core.held.clear()
  core.heads.clear()
  core.nextTimerAt = Number.POSITIVE_INFINITY
  const order: HeldBlock[] = []
  for await (const [k, value] of core.registry.entries(tagRange(TAG.held))) {
    const id = k.slice(1)
    // Backing nothing yet: the replay counts again.
    const held = { ...heldFrom(id, toHex(id), value), refs: 0, objects: [] }
    order.push(held)
    core.held.set(held.key, held)
  }
  order.sort((a, b) => a.seq - b.seq) // the order the blocks were accepted in
  core.nextSeq = Math.max(core.nextSeq, (order.at(-1)?.seq ?? 0) + 1)
  const tx = new Tx()
  tx.ops = clear // block ops follow the deletes in the same batch
  const replayed = new Map<string, Block>()
  const kept: HeldBlock[] = [] // the blocks the repo has
  const blocks: (Block | undefined)[] = []
  const gone = new Set<string>()
  for (const held of order) {
    const block = await core.repo.readBlock(held.id)
    blocks.push(block)
    if (block) continue
    // The repo no longer has it (a fork its strategy let in evicted it): it is not held.
    clear.push(...unholdOps(core, held))
    core.held.set(held.key, null)
    gone.add(held.key)
  }
  // A tombstone whose delete block went with them goes too, before any block is replayed:
  // the object's blocks that stay may bring it back.
  if (gone.size > 0) {
    for (const table of tables.values()) {
      for (const [id, tombstone] of table.tombstones) {
        if (!tombstone || !gone.has(tombstone.blockKey)) continue
        table.tombstones.set(id, null)
        clear.push(core.registry.delOp(tombstoneKey(table.memory.name, id)))
      }
    }
  }
  core.replaying = true
  try {
    for (const [i, held] of order.entries()) {
      const block = blocks[i]
      if (!block) continue
      kept.push(held)
      held.size = block.blockSize
      const parentKey = block.genesis ? '' : toHex(block.psig)
      const parentBlock = parentKey
        ? (replayed.get(parentKey) ?? (await core.repo.readBlock(block.psig)))
        : undefined
      replayed.set(held.key, block)
      await applyBlock(core, { block, parentBlock, held, tx, now })
    }
    tx.ops = tx.endOps
    await expireTouched(core, tx, now)
  } finally {
    core.replaying = false
  }
  // Every held-block record anew, with what it backs now.
  for (const held of kept) clear.push(core.registry.putOp(heldKey(held.id), heldValue(held)))
  core.heldBytes = await blockBytes(core, kept)
  clear.push(bytesOp(core))
  await core.repo.batch([...clear, ...tx.endOps])
  await readNextTimer(core)
  const chains = new Map(kept.map((held) => [held.chain, held.chainId] as const))
  await evict(core, chains)
  core.consumers.notify(core.consumers.all())
}
