/**
 * What the store keeps in memory for each slice and collection: the in-memory side of
 * the layout in layout.ts (the records' shapes are in records.ts).
 */
import { StoreError } from './errors.ts'
import { key, TAG } from './layout.ts'
import {
  cloneValue,
  type Memory,
  type ObjectChange,
  type Observer,
  type SliceSpec,
} from './memory.ts'

import type { ObjectEntry, OrderKeys, SliceEntry, Tombstone } from './records.ts'

// biome-ignore lint/suspicious/noExplicitAny: values are application-defined
type Payload = any

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
