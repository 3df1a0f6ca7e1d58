/**
 * Objects and tombstones of a collection, read through the table's caches (where the
 * operation's changes are) from their `o`, `b` and `d` records.
 */

import { toHex } from '@picostack/feed'
import type { Core } from './core.ts'
import { heldMany } from './held.ts'
import { backingPrefix, objectKey, prefixTop, tombstoneKey } from './layout.ts'
import { type ObjectEntry, objectFrom, type Tombstone, tombstoneFrom } from './records.ts'
import type { Table } from './tables.ts'

/** The object `id` of `table` as stored (no cache). */
export async function readObject(
  core: Core,
  table: Table,
  id: string,
  record?: Uint8Array,
): Promise<ObjectEntry | undefined> {
  const name = table.memory.name
  const value = record ?? (await core.registry.get(objectKey(name, id)))
  if (!value) return undefined
  const { value: object, expiresAt, orderKeys, indexKeys, own, others } = objectFrom(value)
  const blocks = new Set<string>(own ? [id] : [])
  if (others > 0) {
    const prefix = backingPrefix(name, id)
    for await (const [k] of core.registry.entries({ gte: prefix, lt: prefixTop(prefix) })) {
      blocks.add(toHex(k.subarray(prefix.length)))
    }
  }
  return { value: object, blocks, expiresAt, orderKeys, indexKeys }
}

/** The live object `id` of `table`, through its cache (where the operation's changes are). */
export async function objectOf(
  core: Core,
  table: Table,
  id: string,
): Promise<ObjectEntry | undefined> {
  const cached = table.cache.get(id)
  if (cached !== undefined) {
    table.cache.delete(id) // most recently used last
    table.cache.set(id, cached)
    return cached ?? undefined
  }
  const entry = core.replaying ? undefined : await readObject(core, table, id)
  table.cache.set(id, entry ?? null)
  return entry
}

/**
 * The registry keys that find object `id` of `table` or else its tombstone (`o` and `d`),
 * when neither cache knows it; none when one does (or in a replay). Read them (with other
 * keys, in one read) and hand the values to {@link cacheObjectOrTombstone}.
 */
export function objectReads(core: Core, table: Table, id: string): Uint8Array[] {
  if (table.cache.has(id) || table.tombstones.has(id) || core.replaying) return []
  const name = table.memory.name
  return [objectKey(name, id), tombstoneKey(name, id)]
}

/**
 * Caches what the {@link objectReads} of object `id` read (`record`, `grave`: the `o` and
 * `d` values): the object with its backing blocks (its `b` keys are read), or else its
 * tombstone (an object and its tombstone never coexist).
 */
export async function cacheObjectOrTombstone(
  core: Core,
  table: Table,
  id: string,
  [record, grave]: (Uint8Array | undefined)[],
): Promise<void> {
  const object = record && (await readObject(core, table, id, record))
  table.cache.set(id, object ?? null)
  if (!object) table.tombstones.set(id, grave ? tombstoneFrom(grave) : null)
}

/**
 * The live object `id` of `table`, or else its tombstone, through the caches; what
 * neither cache knows is read in one read.
 */
export async function objectOrTombstone(
  core: Core,
  table: Table,
  id: string,
): Promise<{ object?: ObjectEntry; tombstone?: Tombstone }> {
  const reads = objectReads(core, table, id)
  if (reads.length > 0) {
    await cacheObjectOrTombstone(core, table, id, await core.registry.getMany(reads))
  }
  const object = await objectOf(core, table, id)
  return object ? { object } : { tombstone: await tombstoneOf(core, table, id) }
}

/**
 * Reads into the caches, in one read per collection, the objects `ids` (by collection
 * name) that are not cached, and the held-block records of the blocks backing them:
 * for a pass that goes through many objects (a gc).
 */
export async function prefetchObjects(core: Core, ids: Map<string, Set<string>>): Promise<void> {
  if (core.replaying) return
  const blockKeys: string[] = []
  for (const [name, wanted] of ids) {
    const table = core.consumers.tables.get(name)
    if (!table) continue
    const missing = [...wanted].filter((id) => !table.cache.has(id))
    const records = await core.registry.getMany(missing.map((id) => objectKey(name, id)))
    for (const [i, id] of missing.entries()) {
      const record = records[i]
      const object = record && (await readObject(core, table, id, record))
      table.cache.set(id, object ?? null)
      for (const blockKey of object?.blocks ?? []) blockKeys.push(blockKey)
    }
  }
  await heldMany(core, blockKeys)
}

/** The tombstone of object `id` of `table`, through its cache. */
export async function tombstoneOf(
  core: Core,
  table: Table,
  id: string,
): Promise<Tombstone | undefined> {
  const cached = table.tombstones.get(id)
  if (cached !== undefined || core.replaying) return cached ?? undefined
  const value = await core.registry.get(tombstoneKey(table.memory.name, id))
  const tombstone = value ? tombstoneFrom(value) : undefined
  table.tombstones.set(id, tombstone ?? null)
  return tombstone
}
