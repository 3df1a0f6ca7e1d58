/**
 * The values of the store's registry keys (the table in layout.ts): one encoder and one
 * decoder per record, so the tuple layouts and their casts live in one place.
 */
import { toHex } from '@picostack/feed'
import { decode, encode } from 'cborg'
import type { Payload, Signal } from './context.ts'
import { key, seqPart, TAG } from './layout.ts'

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

/** `t` key of a timer: sorted by time. */
export function timerKey(timer: StoreTimer): Uint8Array {
  return key(TAG.timer, seqPart(timer.at), timer.kind, timer.name, timer.id)
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

/** A timer from its `t` key (`tag | at u64 | kind | name | id`, the strings length-prefixed) and value. */
export function timerFrom(k: Uint8Array, value: Uint8Array): StoreTimer {
  const view = new DataView(k.buffer, k.byteOffset, k.byteLength)
  const at =
    value.length > 0
      ? (decode(value) as number)
      : view.getUint32(1) * 0x1_0000_0000 + view.getUint32(5)
  const parts: string[] = []
  for (let offset = 9; offset < k.length && parts.length < 3; ) {
    const length = view.getUint16(offset)
    parts.push(textDecoder.decode(k.subarray(offset + 2, offset + 2 + length)))
    offset += 2 + length
  }
  const [kind, name, id] = parts as [StoreTimer['kind'], string, string]
  return { kind, name, id, at }
}

const textDecoder = new TextDecoder()

/** `h` value: `[seq, chainId, refs, objects, size]`. */
export function heldValue(held: HeldBlock): Uint8Array {
  return encode([held.seq, held.chainId, held.refs, held.objects, held.size])
}

/** A held block from its `h` record (`blockKey`: its id as hex). */
export function heldFrom(id: Uint8Array, blockKey: string, value: Uint8Array): HeldBlock {
  const [seq, chainId, refs, objects, size] = decode(value) as [
    number,
    Uint8Array,
    number,
    [string, string][],
    number | undefined,
  ]
  return { id, key: blockKey, chain: toHex(chainId), chainId, seq, refs, objects, size: size ?? 0 }
}

/** `d` value: `[collection, id, blockId, expiresAt]`. */
export function tombstoneValue(name: string, id: string, tombstone: Tombstone): Uint8Array {
  return encode([name, id, tombstone.blockId, tombstone.expiresAt])
}

export function tombstoneFrom(value: Uint8Array): Tombstone {
  const [, , blockId, expiresAt] = decode(value) as [string, string, Uint8Array, number]
  return { blockId, blockKey: toHex(blockId), expiresAt }
}

/** The collection and object id a `d` value names. */
export function tombstoneOwner(value: Uint8Array): { name: string; id: string } {
  const [name, id] = decode(value) as [string, string]
  return { name, id }
}

/** `o` value: `[value, expiresAt, orderKeys, indexKeys]` (the collection and id are the key's). */
export function objectValue(entry: ObjectEntry): Uint8Array {
  return encode([entry.value, entry.expiresAt, entry.orderKeys, entry.indexKeys])
}

/** An object's `o` record, without its backing blocks (the `b` keys). */
export function objectFrom(value: Uint8Array): Omit<ObjectEntry, 'blocks'> {
  const [object, expiresAt, orderKeys, indexKeys] = decode(value) as [
    Payload,
    number,
    OrderKeys,
    string[],
  ]
  return { value: object, expiresAt, orderKeys, indexKeys }
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

/** `i` value: `[collection, index key, blockId, object id]`. */
export function indexValue(name: string, indexKey: string, blockId: Uint8Array, id: string) {
  return encode([name, indexKey, blockId, id])
}

export function indexFrom(value: Uint8Array): {
  name: string
  indexKey: string
  blockId: Uint8Array
  id: string
} {
  const [name, indexKey, blockId, id] = decode(value) as [string, string, Uint8Array, string]
  return { name, indexKey, blockId, id }
}

/** `z` value: `[bytes of the held blocks, accept seq of the next block]`. */
export function meterValue(heldBytes: number, nextSeq: number): Uint8Array {
  return encode([heldBytes, nextSeq])
}

/**
 * The `z` record. In the layout before this one it was the bytes alone (and values such
 * as `o` and `t` were longer): then `nextSeq` is 0, and `load()` rebuilds every derived
 * key with a replay.
 */
export function meterFrom(value: Uint8Array | undefined): { heldBytes: number; nextSeq: number } {
  if (!value) return { heldBytes: 0, nextSeq: 1 }
  const meter = decode(value) as [number, number] | number
  if (typeof meter === 'number') return { heldBytes: meter, nextSeq: 0 }
  const [heldBytes, nextSeq] = meter
  return { heldBytes, nextSeq }
}

/** `n` value: a number. */
export function numberValue(n: number): Uint8Array {
  return encode(n)
}

export function numberFrom(value: Uint8Array | undefined): number {
  return value ? (decode(value) as number) : 0
}
