/**
 * Forgetting: what is due on the persisted timers is forgotten (objects, tombstones, slice
 * entries, then the slices recomputed), and chains whose blocks stopped backing anything
 * lose their dead prefix (`repo.evictPrefixes`, many chains per batch).
 */
import { bytesEqual, toHex } from '@picostack/feed'
import type { ChainSummary, RegistryOp } from '@picostack/repo'
import { forgetEntry, forgetObject, forgetTombstone } from './changes.ts'
import type { Core } from './core.ts'
import { recompute } from './decide.ts'
import { blockBytes, bytesOp, chainHeld, heldOf, unholdOps } from './held.ts'
import { rejoinOp } from './joins.ts'
import { concatBytes, releasedKey, seqPart, TAG, tagRange } from './layout.ts'
import { objectOf, prefetchObjects, tombstoneOf } from './objects.ts'
import { type HeldBlock, type StoreTimer, timerFrom } from './records.ts'
import type { Tx } from './tx.ts'

/** Reads the earliest persisted timer into `core.nextTimerAt`. */
export async function readNextTimer(core: Core): Promise<void> {
  core.nextTimerAt = Number.POSITIVE_INFINITY
  for await (const [k, value] of core.registry.entries({ ...tagRange(TAG.timer), limit: 1 })) {
    core.nextTimerAt = timerFrom(k, value).at
  }
}

/**
 * Forgets what is due at `now` (the persisted timers up to it, read in time order) and
 * writes the changes in one batch; returns how many items expired.
 */
export async function collect(core: Core, now: number, tx: Tx): Promise<number> {
  tx.ops = tx.endOps
  let expired = 0
  const due: StoreTimer[] = []
  const lt = concatBytes(Uint8Array.of(TAG.timer), seqPart(now + 1))
  for await (const [k, value] of core.registry.entries({ gte: Uint8Array.of(TAG.timer), lt })) {
    const timer = timerFrom(k, value)
    if (timer.at > now) continue // a fraction of a ms later than its key's whole ms
    due.push(timer)
    tx.ops.push(core.registry.delOp(k.slice()))
  }
  const { slices, tables } = core.consumers
  // The objects due, and the records of their blocks, in one read per collection.
  const objects = new Map<string, Set<string>>()
  for (const timer of due) {
    if (timer.kind !== 'o') continue
    let ids = objects.get(timer.name)
    if (!ids) objects.set(timer.name, (ids = new Set()))
    ids.add(timer.id)
  }
  await prefetchObjects(core, objects)
  for (const timer of due) {
    if (timer.kind === 'o') {
      const table = tables.get(timer.name)
      const entry = table && (await objectOf(core, table, timer.id))
      if (!table || entry?.expiresAt !== timer.at) continue
      await forgetObject(core, table, timer.id, tx)
    } else if (timer.kind === 'd') {
      const table = tables.get(timer.name)
      const tombstone = table && (await tombstoneOf(core, table, timer.id))
      if (!table || tombstone?.expiresAt !== timer.at) continue
      await forgetTombstone(core, table, timer.id, tx)
    } else {
      const slice = slices.get(timer.name)
      const entry = slice?.entries.get(Number(timer.id))
      if (!slice || entry?.expiresAt !== timer.at) continue
      await forgetEntry(core, slice, entry, tx)
    }
    expired++
  }
  for (const slice of tx.recompute) await recompute(core, slice, tx)
  if (tx.endOps.length > 0) await core.repo.batch(tx.endOps.splice(0))
  if (due.length > 0 || core.nextTimerAt <= now) await readNextTimer(core)
  return expired
}

/** Dead blocks evicted per repo batch at most (a batch holds them and their ops in memory). */
const EVICT_BATCH_BLOCKS = 4096

/** Chains whose dead prefix is read at once during an eviction (bounds what is held). */
const DEAD_READS_AT_ONCE = 32

/** The dead prefix of one chain, waiting for its batch. */
interface DeadPrefix {
  chainKey: string
  chainId: Uint8Array
  dead: HeldBlock[]
}

/**
 * Deletes the dead prefix (blocks backing nothing) of each chain named, reading the
 * chain's held blocks oldest first ({@link chainHeld}). The chains go together, in one repo
 * batch (`repo.evictPrefixes`) per {@link EVICT_BATCH_BLOCKS} dead blocks, with the store's
 * ops. Returns how many blocks went.
 */
export async function evict(core: Core, chains: Map<string, Uint8Array>): Promise<number> {
  let evicted = 0
  let group: DeadPrefix[] = []
  let ops: RegistryOp[] = []
  let blocks = 0
  const all = [...chains]
  for (let start = 0; start < all.length; start += DEAD_READS_AT_ONCE) {
    const window = all.slice(start, start + DEAD_READS_AT_ONCE)
    // Read-only until the batch below: the window's chains are read side by side (each is
    // a range read and a few gets, on the database's thread pool), then grouped in order.
    const summaries = await core.repo.summaries(window.map(([, chainId]) => chainId))
    const deads = await Promise.all(
      window.map(([, chainId], i) => deadPrefix(core, chainId, summaries[i])),
    )
    for (const [i, [chainKey, chainId]] of window.entries()) {
      const dead = deads[i]!
      ops.push(core.registry.delOp(releasedKey(chainId)))
      if (dead.length > 0) {
        for (const held of dead) ops.push(...unholdOps(core, held))
        group.push({ chainKey, chainId, dead })
        blocks += dead.length
        const summary = summaries[i]
        if (summary?.proven === false && dead.length < summary.length) {
          // A claimed chain keeps its blocks after the prefix: its first block's parent is
          // now the last one evicted, which is where it joins once held again (joins.ts).
          ops.push(await rejoinOp(core, chainId, dead.at(-1)!.id))
        }
      }
      if (blocks >= EVICT_BATCH_BLOCKS) {
        evicted += await evictGroup(core, group, ops)
        group = []
        ops = []
        blocks = 0
      }
    }
  }
  if (ops.length > 0) evicted += await evictGroup(core, group, ops)
  return evicted
}

/**
 * The held blocks of `chainId` that back nothing, oldest first, up to its first live one.
 * `summary`, the repo's chain record (read with the window's others in one `getMany`,
 * which the eviction's own lookups then reuse), names the chain's oldest block and how
 * many it holds: when that block is live, or the only one, that is the answer without a
 * range read of the `c` keys (which seeks in every level of the database, dearer as it
 * grows); when it is not the genesis, the genesis is not held ({@link chainHeld}).
 */
async function deadPrefix(
  core: Core,
  chainId: Uint8Array,
  summary: ChainSummary | undefined,
): Promise<HeldBlock[]> {
  const first = summary && (await heldOf(core, toHex(summary.firstId)))
  if (first && first.refs > 0) return []
  if (first && summary.length === 1) return [first]
  const dead: HeldBlock[] = []
  const genesis = !summary || bytesEqual(summary.firstId, chainId)
  for await (const held of chainHeld(core, chainId, genesis)) {
    if (held.refs > 0) break
    dead.push(held)
  }
  return dead
}

/** Writes the evictions of `group` and `ops` in one batch; returns the blocks evicted. */
async function evictGroup(core: Core, group: DeadPrefix[], ops: RegistryOp[]): Promise<number> {
  if (group.length === 0) {
    await core.repo.batch(ops)
    return 0
  }
  let bytes = 0
  for (const { dead } of group) bytes += await blockBytes(core, dead)
  core.heldBytes -= bytes
  ops.push(bytesOp(core))
  const evictions = group.map(({ chainId, dead }) => ({ chainId, lastId: dead.at(-1)!.id }))
  try {
    await core.repo.evictPrefixes(evictions, { ops })
  } catch (cause) {
    core.heldBytes += bytes // nothing of the batch was written
    throw cause
  }
  let evicted = 0
  for (const { chainKey, dead } of group) {
    for (const held of dead) core.held.set(held.key, null)
    const head = core.heads.get(chainKey)
    if (head && core.held.get(toHex(head.sig)) === null) core.heads.delete(chainKey)
    evicted += dead.length
  }
  return evicted
}
