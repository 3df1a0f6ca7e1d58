/**
 * What the store keeps in memory for each slice and collection, and its records of held
 * blocks: the in-memory side of the layout in layout.ts.
 */
import type { Signal } from './context.ts'
import { StoreError } from './errors.ts'
import { key, TAG } from './layout.ts'
import {
  cloneValue,
  type Memory,
  type ObjectChange,
  type Observer,
  type SliceSpec,
} from './memory.ts'

// biome-ignore lint/suspicious/noExplicitAny: values are application-defined
type Payload = any

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

/** A slice: its value, live entries and observers. */
export class SliceState {
  readonly kind = 'slice'
  value: Payload
  readonly entries = new Map<number, SliceEntry>()
  readonly observers = new Set<Observer<Payload>>()
  /** Registry key of the slice's value. */
  readonly valueKey: Uint8Array
  /** Registry key prefix of its entries (the entry's seq follows). */
  readonly entryPrefix: Uint8Array
  constructor(readonly spec: SliceSpec) {
    this.value = cloneValue(spec.initialValue)
    this.valueKey = key(TAG.slice, spec.name)
    this.entryPrefix = key(TAG.entry, spec.name)
  }
}

/**
 * A collection: a bounded cache of its objects over the `o` records (`null` = known
 * absent), its live count, the lookup index, observers, and for collections that keep one
 * (`Memory.snapshot`), every value in memory.
 */
export class Table {
  readonly kind = 'collection'
  /** Every live value by id: only when `snapshot`. */
  readonly values: Record<string, Payload> = Object.create(null)
  /** Objects read or changed lately (least recently used first); trimmed between operations. */
  readonly cache = new Map<string, ObjectEntry | null>()
  /** Tombstones read or written lately (`null` = known absent); trimmed like `cache`. */
  readonly tombstones = new Map<string, Tombstone | null>()
  readonly index = new Map<string, { blockId: Uint8Array; id: string }>()
  readonly observers = new Set<Observer<Payload>>()
  readonly changeObservers = new Set<(change: ObjectChange<Payload>) => void>()
  /** Live objects. */
  count = 0
  /** Declared orders: name and key function. */
  readonly orders: [string, (value: Payload, id: string) => string][]
  /** Keeps every value in memory (`values`, `state`, `sub`). */
  readonly snapshot: boolean
  /** Registry key of the live count. */
  readonly countKey: Uint8Array
  constructor(readonly memory: Memory) {
    this.orders = Object.entries(memory.orders ?? {})
    this.snapshot = memory.snapshot !== false
    this.countKey = key(TAG.count, memory.name)
  }

  /** The object's key in each declared order. */
  orderKeysOf(value: Payload, id: string): OrderKeys {
    const keys: OrderKeys = {}
    for (const [order, keyOf] of this.orders) {
      const orderKey = keyOf(value, id)
      if (typeof orderKey !== 'string' || orderKey.includes('\0')) {
        throw new StoreError('STORE_REDUCER', `order "${order}" must give a string without NUL`)
      }
      keys[order] = orderKey
    }
    return keys
  }

  /** Drops the least recently used objects and tombstones beyond `limit` each (never during an operation). */
  trim(limit: number): void {
    for (const cache of [this.cache, this.tombstones]) {
      for (const id of cache.keys()) {
        if (cache.size <= limit) break
        cache.delete(id)
      }
    }
  }
}
