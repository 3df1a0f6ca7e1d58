/**
 * The state changes a block (or an expiry) makes, in memory and as registry ops, each
 * journaled in the operation's Tx: slice values and entries, objects with their orders,
 * lookup keys, backing and timers, tombstones. Reference counts move through held.ts.
 */
import type { Payload, Signal } from './context.ts'
import type { Core } from './core.ts'
import { addRef, dropRef, heldOf } from './held.ts'
import {
  backingKey,
  key,
  objectKey,
  orderEntryKey,
  seqKey,
  TAG,
  timerKey,
  tombstoneKey,
} from './layout.ts'
import { objectOf, tombstoneOf } from './objects.ts'
import {
  entryValue,
  type HeldBlock,
  indexValue,
  numberValue,
  type ObjectEntry,
  type OrderKeys,
  objectValue,
  type SliceEntry,
  type StoreTimer,
  sliceValue,
  timerValue,
  tombstoneValue,
} from './records.ts'
import type { SliceState, Table } from './tables.ts'
import type { Tx } from './tx.ts'

/** The value of keys that say everything in the key. */
const EMPTY = new Uint8Array(0)

/** What one object change writes (the value and what derives from it). */
export interface ObjectWrite {
  id: string
  value: Payload
  expiresAt: number
  orderKeys: OrderKeys
  /** Lookup keys (`ctx.index`) this block adds. */
  indexKeys: string[]
}

/** Sets the slice's value (`encoded`: its `s` record, when the caller has it already). */
export function setSlice(
  core: Core,
  slice: SliceState,
  next: Payload,
  tx: Tx,
  encoded = sliceValue(slice.spec.name, next),
): void {
  const previous = slice.value
  const name = slice.spec.name
  const { root } = core.consumers
  slice.value = next
  root[name] = next
  tx.journal.push(() => {
    slice.value = previous
    root[name] = previous
  })
  tx.ops.push(core.registry.putOp(slice.valueKey, encoded))
  tx.changed.add(slice)
}

/** A new live entry of the slice, backed by `held` (a trap's change when `signal` is set). */
export function addEntry(
  core: Core,
  slice: SliceState,
  held: HeldBlock,
  expiresAt: number,
  signal: Signal | null,
  tx: Tx,
): void {
  const name = slice.spec.name
  const seq = core.nextEntry++
  const entry: SliceEntry = { seq, blockKey: held.key, blockId: held.id, expiresAt, signal }
  slice.entries.set(seq, entry)
  tx.journal.push(() => {
    slice.entries.delete(seq)
  })
  addRef(core, held, tx)
  tx.ops.push(core.registry.putOp(seqKey(slice.entryPrefix, seq), entryValue(name, entry)))
  addTimer(core, { kind: 'e', name, id: String(seq), at: expiresAt }, tx)
}

/** Removes a slice entry (the slice is recomputed later); its block loses one backing. */
export async function forgetEntry(
  core: Core,
  slice: SliceState,
  entry: SliceEntry,
  tx: Tx,
): Promise<void> {
  const name = slice.spec.name
  slice.entries.delete(entry.seq)
  tx.journal.push(() => {
    slice.entries.set(entry.seq, entry)
  })
  const held = await heldOf(core, entry.blockKey)
  if (held) dropRef(core, held, tx)
  delTimer(core, { kind: 'e', name, id: String(entry.seq), at: entry.expiresAt }, tx)
  tx.ops.push(core.registry.delOp(seqKey(slice.entryPrefix, entry.seq)))
  tx.recompute.add(slice)
  tx.changed.add(slice)
}

export function addTimer(core: Core, timer: StoreTimer, tx: Tx): void {
  if (timer.at === Number.POSITIVE_INFINITY) return
  core.nextTimerAt = Math.min(core.nextTimerAt, timer.at)
  tx.ops.push(core.registry.putOp(timerKey(timer), timerValue(timer)))
}

export function delTimer(core: Core, timer: StoreTimer, tx: Tx): void {
  if (timer.at !== Number.POSITIVE_INFINITY) tx.ops.push(core.registry.delOp(timerKey(timer)))
}

function countOp(core: Core, table: Table) {
  return core.registry.putOp(table.countKey, numberValue(table.count))
}

/** Sets object `id` to the change's value; `held` backs it (from now until it goes). */
export function setObject(core: Core, table: Table, change: ObjectWrite, held: HeldBlock, tx: Tx) {
  const { id, value: next, expiresAt, orderKeys, indexKeys } = change
  const name = table.memory.name
  const cached = table.cache.get(id)
  const existed = cached !== undefined && cached !== null
  const previous = existed ? { ...cached } : undefined
  const entry: ObjectEntry = existed
    ? cached
    : {
        value: next,
        blocks: new Set(),
        expiresAt: Number.POSITIVE_INFINITY,
        indexKeys: [],
        orderKeys: {},
      }
  const previousSnapshot = table.values[id]
  const addsBlock = !entry.blocks.has(held.key)
  writeOrders(core, table, id, entry.orderKeys, orderKeys, tx)
  if (expiresAt !== entry.expiresAt) {
    delTimer(core, { kind: 'o', name, id, at: entry.expiresAt }, tx)
    addTimer(core, { kind: 'o', name, id, at: expiresAt }, tx)
  }
  const replacedIndex = indexKeys.map((k) => table.index.get(k))
  for (const indexKey of indexKeys) {
    table.index.set(indexKey, { blockId: held.id, id })
    tx.ops.push(
      core.registry.putOp(key(TAG.index, name, indexKey), indexValue(name, indexKey, held.id, id)),
    )
  }
  entry.value = next
  entry.expiresAt = expiresAt
  entry.orderKeys = orderKeys
  entry.indexKeys = [...entry.indexKeys, ...indexKeys]
  table.cache.set(id, entry)
  if (table.snapshot) table.values[id] = next
  if (addsBlock) {
    entry.blocks.add(held.key)
    addRef(core, held, tx, [name, id])
    // The block whose hex is the id (it made the object) is in the `o` record, not a `b` key.
    if (held.key !== id) tx.ops.push(core.registry.putOp(backingKey(name, id, held.id), EMPTY))
  }
  if (!existed) {
    table.count++
    tx.ops.push(countOp(core, table))
  }
  tx.ops.push(core.registry.putOp(objectKey(name, id), objectValue(id, entry)))
  tx.touched.set(`${name}\0${id}`, { table, id })
  tx.changed.add(table)
  tx.objectChanged(table, id)
  tx.journal.push(() => {
    if (previous) Object.assign(entry, previous)
    table.cache.set(id, existed ? entry : (cached ?? null))
    if (table.snapshot) {
      if (existed) table.values[id] = previousSnapshot
      else delete table.values[id]
    }
    if (addsBlock) entry.blocks.delete(held.key)
    if (!existed) table.count--
    indexKeys.forEach((k, i) => {
      const old = replacedIndex[i]
      if (old) table.index.set(k, old)
      else table.index.delete(k)
    })
  })
}

/** Moves object `id` from its `before` keys to its `after` keys in the declared orders. */
function writeOrders(
  core: Core,
  table: Table,
  id: string,
  before: OrderKeys,
  after: OrderKeys,
  tx: Tx,
): void {
  const name = table.memory.name
  for (const [order] of table.orders) {
    const from = before[order]
    const to = after[order]
    if (from === to) continue
    if (from !== undefined) tx.ops.push(core.registry.delOp(orderEntryKey(name, order, from, id)))
    if (to !== undefined) {
      tx.ops.push(core.registry.putOp(orderEntryKey(name, order, to, id), EMPTY))
    }
  }
}

/** Forgets object `id`: its value, index keys and timer; its blocks lose one backing. */
export async function forgetObject(core: Core, table: Table, id: string, tx: Tx): Promise<void> {
  const entry = await objectOf(core, table, id)
  if (!entry) return
  const name = table.memory.name
  const previousSnapshot = table.values[id]
  table.cache.set(id, null)
  if (table.snapshot) delete table.values[id]
  table.count--
  tx.ops.push(countOp(core, table))
  writeOrders(core, table, id, entry.orderKeys, {}, tx)
  tx.objectChanged(table, id)
  const removedIndex: [string, { blockId: Uint8Array; id: string }][] = []
  for (const indexKey of entry.indexKeys) {
    const indexed = table.index.get(indexKey)
    if (indexed?.id !== id) continue
    removedIndex.push([indexKey, indexed])
    table.index.delete(indexKey)
    tx.ops.push(core.registry.delOp(key(TAG.index, name, indexKey)))
  }
  tx.journal.push(() => {
    table.cache.set(id, entry)
    if (table.snapshot) table.values[id] = previousSnapshot
    table.count++
    for (const [indexKey, indexed] of removedIndex) table.index.set(indexKey, indexed)
  })
  for (const blockKey of entry.blocks) {
    const held = await heldOf(core, blockKey)
    if (!held) continue
    dropRef(core, held, tx, [name, id])
    if (blockKey !== id) tx.ops.push(core.registry.delOp(backingKey(name, id, held.id)))
  }
  delTimer(core, { kind: 'o', name, id, at: entry.expiresAt }, tx)
  tx.ops.push(core.registry.delOp(objectKey(name, id)))
  tx.changed.add(table)
}

/** Records that block `held` deleted object `id` until `expiresAt`; the block backs it. */
export function setTombstone(
  core: Core,
  table: Table,
  id: string,
  expiresAt: number,
  held: HeldBlock,
  tx: Tx,
): void {
  const name = table.memory.name
  const previous = table.tombstones.get(id)
  const tombstone = { blockId: held.id, blockKey: held.key, expiresAt }
  table.tombstones.set(id, tombstone)
  tx.journal.push(() => {
    if (previous === undefined) table.tombstones.delete(id)
    else table.tombstones.set(id, previous)
  })
  tx.ops.push(core.registry.putOp(tombstoneKey(name, id), tombstoneValue(tombstone)))
  addTimer(core, { kind: 'd', name, id, at: expiresAt }, tx)
  addRef(core, held, tx, [name, id])
  tx.changed.add(table)
}

/** The tombstone of object `id` goes (expired, or its block left); its block loses one backing. */
export async function forgetTombstone(core: Core, table: Table, id: string, tx: Tx): Promise<void> {
  const tombstone = await tombstoneOf(core, table, id)
  if (!tombstone) return
  const name = table.memory.name
  table.tombstones.set(id, null)
  tx.ops.push(core.registry.delOp(tombstoneKey(name, id)))
  delTimer(core, { kind: 'd', name, id, at: tombstone.expiresAt }, tx)
  const held = await heldOf(core, tombstone.blockKey)
  if (held) dropRef(core, held, tx, [name, id])
}

/** End of a patch: objects it touched whose value is already expired are forgotten. */
export async function expireTouched(core: Core, tx: Tx, now: number): Promise<void> {
  for (const { table, id } of [...tx.touched.values()]) {
    const entry = table.cache.get(id)
    if (entry && entry.expiresAt <= now) await forgetObject(core, table, id, tx)
  }
}
