/**
 * The values of the store's registry keys (the table in layout.ts): one encoder and one
 * decoder per record, so the tuple layouts and their casts live in one place.
 */
import { toHex } from '@picostack/feed'
import { decode, encode } from 'cborg'
import type { Payload, Signal } from './context.ts'
import { key, seqPart, TAG } from './layout.ts'
import type { HeldBlock, ObjectEntry, OrderKeys, SliceEntry, Tombstone } from './tables.ts'

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

/** `t` value: `[kind, name, id, at]`. */
export function timerValue(timer: StoreTimer): Uint8Array {
  return encode([timer.kind, timer.name, timer.id, timer.at])
}

export function timerFrom(value: Uint8Array): StoreTimer {
  const [kind, name, id, at] = decode(value) as [StoreTimer['kind'], string, string, number]
  return { kind, name, id, at }
}

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

/** `a` value: `[seq, blockId, chainId]`. */
export function acceptedValue(held: HeldBlock): Uint8Array {
  return encode([held.seq, held.id, held.chainId])
}

/** A held block as its `a` record names it (backing nothing yet: a replay counts again). */
export function acceptedFrom(value: Uint8Array): HeldBlock {
  const [seq, id, chainId] = decode(value) as [number, Uint8Array, Uint8Array]
  return { id, key: toHex(id), chain: toHex(chainId), chainId, seq, refs: 0, objects: [], size: 0 }
}

/** `d` value: `[collection, id, blockId, expiresAt]`. */
export function tombstoneValue(name: string, id: string, tombstone: Tombstone): Uint8Array {
  return encode([name, id, tombstone.blockId, tombstone.expiresAt])
}

export function tombstoneFrom(value: Uint8Array): Tombstone & { name: string; id: string } {
  const [name, id, blockId, expiresAt] = decode(value) as [string, string, Uint8Array, number]
  return { name, id, blockId, blockKey: toHex(blockId), expiresAt }
}

/** `o` value: `[collection, id, value, expiresAt, orderKeys, indexKeys]`. */
export function objectValue(name: string, id: string, entry: ObjectEntry): Uint8Array {
  return encode([name, id, entry.value, entry.expiresAt, entry.orderKeys, entry.indexKeys])
}

/** An object's `o` record, without its backing blocks (the `b` keys). */
export function objectFrom(value: Uint8Array): Omit<ObjectEntry, 'blocks'> & { id: string } {
  const [, id, object, expiresAt, orderKeys, indexKeys] = decode(value) as [
    string,
    string,
    Payload,
    number,
    OrderKeys | undefined,
    string[] | undefined,
  ]
  return { id, value: object, expiresAt, orderKeys: orderKeys ?? {}, indexKeys: indexKeys ?? [] }
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

/** `b` value: `[collection, object id, blockId]`. */
export function backingValue(name: string, id: string, blockId: Uint8Array): Uint8Array {
  return encode([name, id, blockId])
}

/** `n` and `z` values: a number. */
export function numberValue(n: number): Uint8Array {
  return encode(n)
}

export function numberFrom(value: Uint8Array | undefined): number {
  return value ? (decode(value) as number) : 0
}
