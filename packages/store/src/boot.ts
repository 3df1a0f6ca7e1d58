/**
 * What `load()` reads: the slices (values and entries), the lookup index, each
 * collection's count (and the values of collections that keep a snapshot), the earliest
 * timer, the held bytes and the next accept seq, the chains whose dead prefix a crash
 * left waiting and (while they are few) the ids of the `p` and `q` keys. No object of a collection without a snapshot, and no block.
 */
import { toHex } from '@picostack/feed'
import type { Core } from './core.ts'
import { readNextTimer } from './forget.ts'
import { METER_KEY } from './held.ts'
import { readClaims } from './joins.ts'
import { key, prefixTop, TAG, tagRange } from './layout.ts'
import {
  entryFrom,
  indexFrom,
  meterFrom,
  numberFrom,
  objectFrom,
  objectIdOf,
  type SliceEntry,
  sliceFrom,
} from './records.ts'
import type { SliceState } from './tables.ts'

/**
 * Reads what memory holds; returns the chains whose dead prefix still waits to go.
 * @throws STORE_LAYOUT when the registry is in another layout (read first: nothing else is)
 */
export async function readRegistry(core: Core): Promise<Map<string, Uint8Array>> {
  const { registry } = core
  const meter = meterFrom(await registry.get(METER_KEY))
  core.heldBytes = meter.heldBytes
  core.nextSeq = meter.nextSeq
  const { slices, tables, root } = core.consumers
  async function* values(range: { gte: Uint8Array; lt: Uint8Array }) {
    for await (const [, value] of registry.entries(range)) yield value
  }
  for await (const value of values(tagRange(TAG.slice))) {
    const { name, state } = sliceFrom(value)
    const slice = slices.get(name)
    if (slice) root[slice.spec.name] = slice.value = state
  }
  const loaded: { slice: SliceState; entry: SliceEntry }[] = []
  for await (const value of values(tagRange(TAG.entry))) {
    const { name, ...entry } = entryFrom(value)
    core.nextEntry = Math.max(core.nextEntry, entry.seq + 1)
    const slice = slices.get(name)
    if (slice) loaded.push({ slice, entry })
  }
  // Entries in the order they were made (a slice is recomputed in that order).
  loaded.sort((a, b) => a.entry.seq - b.entry.seq)
  for (const { slice, entry } of loaded) slice.entries.set(entry.seq, entry)
  for await (const value of values(tagRange(TAG.index))) {
    const { name, indexKey, blockId, id } = indexFrom(value)
    tables.get(name)?.index.set(indexKey, { blockId, id })
  }
  for (const table of tables.values()) {
    table.count = numberFrom(await registry.get(table.countKey))
    if (!table.snapshot) continue
    const prefix = key(TAG.object, table.memory.name)
    for await (const [k, value] of registry.entries({ gte: prefix, lt: prefixTop(prefix) })) {
      table.values[objectIdOf(k, prefix.length)] = objectFrom(value).value
    }
  }
  await readNextTimer(core)
  await readClaims(core)
  const released = new Map<string, Uint8Array>()
  for await (const [k] of registry.entries(tagRange(TAG.released))) {
    const chainId = k.slice(1)
    released.set(toHex(chainId), chainId)
  }
  return released
}
