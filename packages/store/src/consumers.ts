/**
 * Registration and observers: the slices and collections of a store, the root state
 * object (`store.state`), and the calls to `on`/`sub` and `onChange` observers after
 * each operation.
 */
import type { Payload } from './context.ts'
import { StoreError } from './errors.ts'
import {
  bindMemory,
  type Memory,
  type ObjectChange,
  type Observer,
  type SliceHandle,
  type SliceSpec,
  type StoreHost,
} from './memory.ts'
import type { QueryOptions, QueryPage } from './query.ts'
import { SliceState, Table } from './tables.ts'
import type { Consumer } from './tx.ts'

const NAME_PATTERN = /^[^\0]{1,200}$/

/** A collection class as `register` takes it. */
// biome-ignore lint/suspicious/noExplicitAny: a memory class of any value type
type AnyMemoryClass = new (store: StoreHost, name: string) => Memory<any>

/** What registration needs of the store: reads of one collection from disk. */
export interface CollectionReads {
  /** Throws STORE_NOT_LOADED / STORE_CLOSED outside load() .. close(). */
  assertReady(): void
  get(table: Table, id: string): Promise<Payload | undefined>
  query(table: Table, orders: string[], q?: QueryOptions): Promise<QueryPage<Payload>>
}

/** The slices and collections of one store, by name. */
export class Consumers {
  readonly slices = new Map<string, SliceState>()
  readonly tables = new Map<string, Table>()
  /** Every slice's value and the objects of every collection with a snapshot, by name. */
  readonly root: Record<string, unknown> = Object.create(null)

  /**
   * Registers a slice spec, or a collection `name` of class `memory` (constructed with
   * `store`).
   * @throws STORE_INVALID_SLICE for a malformed or duplicate registration
   */
  register(
    specOrName: SliceSpec | string,
    memory: AnyMemoryClass | undefined,
    store: StoreHost,
    reads: CollectionReads,
  ): SliceHandle<Payload> | Memory {
    const name = typeof specOrName === 'string' ? specOrName : specOrName?.name
    if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
      throw new StoreError('STORE_INVALID_SLICE', 'a name is 1 to 200 characters without NUL')
    }
    if (this.slices.has(name) || this.tables.has(name)) {
      throw new StoreError('STORE_INVALID_SLICE', `"${name}" is already registered`)
    }
    if (typeof specOrName !== 'string') return this.#registerSlice(name, specOrName)
    if (typeof memory !== 'function') {
      throw new StoreError('STORE_INVALID_SLICE', `collection "${name}" needs a Memory class`)
    }
    const instance = new memory(store, name)
    if (typeof instance.compute !== 'function') {
      throw new StoreError('STORE_INVALID_SLICE', `collection "${name}" must implement compute`)
    }
    const table = new Table(instance)
    this.tables.set(name, table)
    if (table.snapshot) this.root[name] = table.values
    const orders = table.orders.map(([order]) => order)
    const noSnapshot = () =>
      new StoreError(
        'STORE_INVALID_SLICE',
        `collection "${name}" keeps no snapshot (snapshot = false): use get, query, onChange`,
      )
    bindMemory(instance, {
      get values() {
        if (!table.snapshot) throw noSnapshot()
        return table.values
      },
      subscribe: (fn) => {
        if (!table.snapshot) throw noSnapshot()
        return this.subscribe(table, fn)
      },
      get: async (id) => {
        reads.assertReady()
        const cached = table.cache.get(id)
        if (cached !== undefined) return cached?.value
        return reads.get(table, id)
      },
      query: async (q) => {
        reads.assertReady()
        return reads.query(table, orders, q)
      },
      count: async () => {
        reads.assertReady()
        return table.count
      },
      onChange: (fn) => {
        table.changeObservers.add(fn)
        return () => {
          table.changeObservers.delete(fn)
        }
      },
    })
    return instance
  }

  #registerSlice(name: string, spec: SliceSpec): SliceHandle<Payload> {
    if (typeof spec.reducer !== 'function') {
      throw new StoreError('STORE_INVALID_SLICE', `slice "${name}" needs a reducer`)
    }
    const slice = new SliceState(spec)
    this.slices.set(name, slice)
    this.root[name] = slice.value
    const subscribe = (fn: Observer<Payload>) => this.subscribe(slice, fn)
    return {
      name,
      get state() {
        return slice.value
      },
      sub: subscribe,
    }
  }

  /** Every slice and collection. */
  all(): Consumer[] {
    return [...this.slices.values(), ...this.tables.values()]
  }

  /**
   * `store.on(name, fn)`.
   * @throws STORE_INVALID_SLICE when nothing is registered under `name`, or for a
   *   collection without a snapshot
   */
  on(name: string, fn: Observer<Payload>): () => void {
    const consumer = this.slices.get(name) ?? this.tables.get(name)
    if (!consumer) throw new StoreError('STORE_INVALID_SLICE', `nothing registered as "${name}"`)
    if (consumer.kind === 'collection' && !consumer.snapshot) {
      throw new StoreError('STORE_INVALID_SLICE', `collection "${name}" keeps no snapshot`)
    }
    return this.subscribe(consumer, fn)
  }

  /** Calls `fn` with the consumer's value now and after each change. */
  subscribe(consumer: Consumer, fn: Observer<Payload>): () => void {
    consumer.observers.add(fn)
    fn(consumer.kind === 'slice' ? consumer.value : consumer.values)
    return () => {
      consumer.observers.delete(fn)
    }
  }

  /** After an operation: `onChange` observers per changed object, then the consumers' observers. */
  notify(changed: Iterable<Consumer>, objects?: Map<Table, Set<string>>): void {
    this.deliver(this.notice(changed, objects))
  }

  /**
   * What {@link Consumers.notify} tells the observers, with the values as they are now, to
   * {@link Consumers.deliver} later (a patch of a group is told its own values, not those
   * of the patches applied after it).
   */
  notice(changed: Iterable<Consumer>, objects?: Map<Table, Set<string>>): Notice {
    const notice: Notice = { objects: [], consumers: [] }
    for (const [table, ids] of objects ?? []) {
      if (table.changeObservers.size === 0) continue
      for (const id of ids) notice.objects.push([table, { id, value: table.cache.get(id)?.value }])
    }
    for (const consumer of changed) {
      if (consumer.kind === 'collection' && !consumer.snapshot) continue
      notice.consumers.push([
        consumer,
        consumer.kind === 'slice' ? consumer.value : consumer.values,
      ])
    }
    return notice
  }

  /** Calls the observers of a {@link Notice} (those subscribed now); a failing one is skipped. */
  deliver(notice: Notice): void {
    for (const [table, change] of notice.objects) {
      for (const fn of [...table.changeObservers]) {
        try {
          fn(change)
        } catch {
          // An observer's failure is its own; the store keeps going.
        }
      }
    }
    for (const [consumer, value] of notice.consumers) {
      for (const fn of [...consumer.observers]) {
        try {
          fn(value)
        } catch {
          // An observer's failure is its own; the store keeps going.
        }
      }
    }
  }
}

/** The calls of one notification: each changed object's change, each changed consumer's value. */
export interface Notice {
  objects: [Table, ObjectChange<Payload>][]
  consumers: [Consumer, Payload][]
}
