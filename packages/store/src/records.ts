/**
 * The values of the store's registry keys (the table in layout.ts): one encoder and one
 * decoder per record, so the tuple layouts and their casts live in one place.
 */
import { fromHex, toHex } from '@picostack/feed'
import { decode, encode } from 'cborg'
import type { Payload, Signal } from './context.ts'
import { StoreError } from './errors.ts'
import { idOfPart, isLowerHex, LAYOUT, readParts } from './layout.ts'

/** An object id in a CBOR value, compact (layout.ts): a lowercase-hex id as its bytes. */
export function idValue(id: string): string | Uint8Array {
  return isLowerHex(id) ? fromHex(id) : id
}

/** The object id {@link idValue} wrote. */
export function idFromValue(value: string | Uint8Array): string {
  return typeof value === 'string' ? value : toHex(value)
}

/** A held block: its `h` record (how much live state it backs) and where it is. */
export interface HeldBlock {
  /** Block id (64 B). */
  id: Uint8Array
  /** Block id, hex. */
  key: string
  /** Chain id, hex. */
  chain: string
  /** Chain id (64 B). */
  chainId: Uint8Array
  /** Accept sequence number. */
  seq: number
  /** How many objects and slice entries this block backs. */
  refs: number
  /** The objects it backs: `[collection, id]`. */
  objects: [string, string][]
  /** The block's size in bytes (what it counts for in the storage budget). */
  size: number
  /**
   * True for a genesis: its place in its chain is implied (always its chain's oldest held
   * block), so it has no `c` key (layout.ts). From the block when it is applied, from the
   * `h` record when read; a block whose id a partial chain claimed is no genesis.
   */
  genesis: boolean
}

/** An object's key per declared order, by order name. */
export type OrderKeys = Record<string, string>

/** What the store knows of one live object (its `o` record and its `b` keys). */
export interface ObjectEntry {
  value: Payload
  /** Hex ids of the blocks backing it. */
  blocks: Set<string>
  expiresAt: number
  /** Lookup keys (`ctx.index`) it holds. */
  indexKeys: string[]
  /** Its key in each declared order. */
  orderKeys: OrderKeys
}

/** A deleted object's tombstone (its `d` record). */
export interface Tombstone {
  /** The delete block's id (64 B): it backs the tombstone. */
  blockId: Uint8Array
  /** The delete block's id, hex. */
  blockKey: string
  /** When the tombstone goes, ms since the epoch. */
  expiresAt: number
}

/** A live slice entry: a block's contribution to a slice. */
export interface SliceEntry {
  seq: number
  blockKey: string
  blockId: Uint8Array
  expiresAt: number
  signal: Signal | null
}

/**
 * A persisted expiry timer: of an object (`o`, id = object id), a slice entry (`e`, id =
 * seq) or a tombstone (`d`, id = object id).
 */
export interface StoreTimer {
  at: number
  kind: 'o' | 'e' | 'd'
  name: string
  id: string
}

/**
 * `t` value: empty when the key's u64 is the time itself (a whole number of ms from 0 to
 * 2^53 - 1), else the exact time (CBOR), so a timer is never read early or late.
 */
export function timerValue(timer: StoreTimer): Uint8Array {
  const whole = Number.isSafeInteger(timer.at) && timer.at >= 0
  return whole ? EMPTY : encode(timer.at)
}

const EMPTY = new Uint8Array(0)

/** A timer from its `t` key (`tag | at u64 | kind | name | id`, both length-prefixed) and value. */
export function timerFrom(k: Uint8Array, value: Uint8Array): StoreTimer {
  const view = new DataView(k.buffer, k.byteOffset, k.byteLength)
  const at =
    value.length > 0
      ? (decode(value) as number)
      : view.getUint32(1) * 0x1_0000_0000 + view.getUint32(5)
  const kind = String.fromCharCode(k[9]!) as StoreTimer['kind']
  const [name, id] = readParts(k, 10, 2) as [Uint8Array, Uint8Array]
  return { kind, name: textDecoder.decode(name), id: idOfPart(id), at }
}

const textDecoder = new TextDecoder()

/**
 * `h` value: `[seq, chainId, refs, objects, size]`, the chain id `null` for a genesis (not
 * for a block whose id a partial chain claimed: that one has a `c` key) and an object id
 * `null` when it is the block id's hex (layout.ts).
 */
export function heldValue(held: HeldBlock): Uint8Array {
  const chainId = held.genesis ? null : held.chainId
  const objects = held.objects.map(([name, id]) => [name, id === held.key ? null : idValue(id)])
  return encode([held.seq, chainId, held.refs, objects, held.size])
}

/** A held block from its `h` record (`blockKey`: its id as hex). */
export function heldFrom(id: Uint8Array, blockKey: string, value: Uint8Array): HeldBlock {
  const [seq, chainId, refs, objects, size] = decode(value) as [
    number,
    Uint8Array | null,
    number,
    [string, string | Uint8Array | null][],
    number,
  ]
  return {
    id,
    key: blockKey,
    chain: chainId ? toHex(chainId) : blockKey,
    chainId: chainId ?? id,
    seq,
    refs,
    objects: objects.map(([name, object]) => [name, object ? idFromValue(object) : blockKey]),
    size,
    genesis: chainId === null,
  }
}

/** `d` value: `[blockId, expiresAt]` (the collection and id are the key's). */
export function tombstoneValue(tombstone: Tombstone): Uint8Array {
  return encode([tombstone.blockId, tombstone.expiresAt])
}

export function tombstoneFrom(value: Uint8Array): Tombstone {
  const [blockId, expiresAt] = decode(value) as [Uint8Array, number]
  return { blockId, blockKey: toHex(blockId), expiresAt }
}

/** The collection and object id a `d` key names. */
export function tombstoneOwner(k: Uint8Array): { name: string; id: string } {
  const [name, id] = readParts(k, 1, 2) as [Uint8Array, Uint8Array]
  return { name: textDecoder.decode(name), id: idOfPart(id) }
}

/**
 * `o` value of object `id`: `[value, expiresAt, orderKeys, indexKeys, own, others]` (the
 * collection and id are the key's): `own`, whether the block whose hex is `id` backs it
 * (the block that made it, for ids such as `CHAIN`: it has no `b` key), and `others`, how
 * many blocks back it besides (its `b` keys: none to read when 0).
 */
export function objectValue(id: string, entry: ObjectEntry): Uint8Array {
  const own = entry.blocks.has(id)
  const others = entry.blocks.size - (own ? 1 : 0)
  return encode([entry.value, entry.expiresAt, entry.orderKeys, entry.indexKeys, own, others])
}

/** An object's `o` record: all but its backing blocks, and how to find them (`own`, `others`). */
export function objectFrom(
  value: Uint8Array,
): Omit<ObjectEntry, 'blocks'> & { own: boolean; others: number } {
  const [object, expiresAt, orderKeys, indexKeys, own, others] = decode(value) as [
    Payload,
    number,
    OrderKeys,
    string[],
    boolean,
    number,
  ]
  return { value: object, expiresAt, orderKeys, indexKeys, own, others }
}

/** The object id at the end of an `o` key whose collection prefix is `prefixLength` bytes. */
export function objectIdOf(k: Uint8Array, prefixLength: number): string {
  return textDecoder.decode(k.subarray(prefixLength))
}

/** `e` value: `[slice, seq, blockId, expiresAt, signal or null]`. */
export function entryValue(name: string, entry: SliceEntry): Uint8Array {
  return encode([name, entry.seq, entry.blockId, entry.expiresAt, entry.signal])
}

export function entryFrom(value: Uint8Array): SliceEntry & { name: string } {
  const [name, seq, blockId, expiresAt, signal] = decode(value) as [
    string,
    number,
    Uint8Array,
    number,
    Signal | null,
  ]
  return { name, seq, blockKey: toHex(blockId), blockId, expiresAt, signal }
}

/** `s` value: `[slice, state]`. */
export function sliceValue(name: string, state: Payload): Uint8Array {
  return encode([name, state])
}

export function sliceFrom(value: Uint8Array): { name: string; state: Payload } {
  const [name, state] = decode(value) as [string, Payload]
  return { name, state }
}

/** `i` value: `[collection, index key, blockId, object id (compact)]`. */
export function indexValue(name: string, indexKey: string, blockId: Uint8Array, id: string) {
  return encode([name, indexKey, blockId, idValue(id)])
}

export function indexFrom(value: Uint8Array): {
  name: string
  indexKey: string
  blockId: Uint8Array
  id: string
} {
  const [name, indexKey, blockId, id] = decode(value) as [
    string,
    string,
    Uint8Array,
    string | Uint8Array,
  ]
  return { name, indexKey, blockId, id: idFromValue(id) }
}

/** `z` value: `[bytes of the held blocks, accept seq of the next block, layout]`. */
export function meterValue(heldBytes: number, nextSeq: number): Uint8Array {
  return encode([heldBytes, nextSeq, LAYOUT])
}

/**
 * The `z` record (none in a new registry).
 * @throws STORE_LAYOUT when it is not of layout {@link LAYOUT}: an older store wrote the
 *   registry (its `z` was the bytes alone, then `[bytes, next seq]`)
 */
export function meterFrom(value: Uint8Array | undefined): { heldBytes: number; nextSeq: number } {
  if (!value) return { heldBytes: 0, nextSeq: 1 }
  const meter = decode(value) as unknown
  const layout = Array.isArray(meter) ? meter[2] : undefined
  if (layout !== LAYOUT) {
    throw new StoreError(
      'STORE_LAYOUT',
      `the store's registry is in ${typeof layout === 'number' ? `layout ${layout}` : 'an older layout'}, this store reads layout ${LAYOUT} only: open it with the version that wrote it, or start from an empty database`,
    )
  }
  const [heldBytes, nextSeq] = meter as [number, number]
  return { heldBytes, nextSeq }
}

/** `n` value: a number. */
export function numberValue(n: number): Uint8Array {
  return encode(n)
}

export function numberFrom(value: Uint8Array | undefined): number {
  return value ? (decode(value) as number) : 0
}
