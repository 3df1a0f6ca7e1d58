import type { Feed, FeedLike } from '@picostack/feed'
import type { Repo } from '@picostack/repo'
import type {
  BlockContext,
  ComputeContext,
  Deletion,
  Payload,
  Postponement,
  Rejection,
  Signal,
} from './context.ts'
import type { DispatchOptions, DispatchResult, GcResult } from './options.ts'
import type { QueryOptions, QueryPage } from './query.ts'

/**
 * The store a collection is registered in, as the collection sees it: every member of
 * `Store` but `register` (registration is over once collections exist). `Store`
 * implements it; declaring it here keeps memory.ts free of store.ts.
 */
export interface StoreHost {
  /** The repo holding the blocks and the store's registry. */
  readonly repo: Repo
  /** Every slice's value and the objects of every collection that keeps a snapshot, by name. */
  readonly state: Readonly<Record<string, unknown>>
  /** `store.on(name, fn)`: see `Store.on`. */
  on<S = Payload>(name: string, fn: Observer<S>): () => void
  /** See `Store.load`. */
  load(): Promise<void>
  /** See `Store.dispatch`. */
  dispatch(patch: FeedLike, options?: DispatchOptions): Promise<Feed | undefined>
  /** See `Store.apply`. */
  apply(patch: FeedLike, options?: DispatchOptions): Promise<DispatchResult>
  /** See `Store.gc`. */
  gc(now?: number): Promise<GcResult>
  /** See `Store.reload`. */
  reload(): Promise<void>
  /** See `Store.idle`. */
  idle(): Promise<void>
  /** See `Store.close`. */
  close(): Promise<void>
}

/** What an object id may be; bytes become lowercase hex, numbers their decimal string. */
export type ObjectId = string | number | Uint8Array

/**
 * What `compute` may return: the new value, a rejection/postponement, a deletion
 * (`ctx.delete()`), or `undefined` to ignore.
 */
export type ComputeResult<V> = V | Rejection | Postponement | Deletion | undefined

/** Called by traps: changes object `id` to `fn(current value or initialValue)`. */
export type Mutate<V> = (id: ObjectId, fn: (value: V) => V) => void

/** Observer of a slice or collection state. */
export type Observer<S> = (state: S) => void

/** One object of a collection changed: its new value, or `undefined` when it went away. */
export interface ObjectChange<V> {
  /** The object's id. */
  id: string
  /** Its value now; `undefined` when the object went away (expired, deleted, or its blocks went). */
  value: V | undefined
}

/** The store's view of one collection (set by the store; not part of the public API). */
export interface CollectionView<V> {
  values: Record<string, V>
  subscribe(fn: Observer<Record<string, V>>): () => void
  get(id: string): Promise<V | undefined>
  query(q?: QueryOptions): Promise<QueryPage<V>>
  count(): Promise<number>
  onChange(fn: (change: ObjectChange<V>) => void): () => void
}

const views = new WeakMap<Memory<Payload>, CollectionView<Payload>>()

/** @internal Connects a Memory to the table the store keeps for it. */
export function bindMemory<V>(memory: Memory<V>, view: CollectionView<V>): void {
  views.set(memory, view)
}

function viewOf<V>(memory: Memory<V>): CollectionView<V> {
  const view = views.get(memory)
  if (!view) throw new Error(`collection ${memory.name} is not registered`)
  return view as CollectionView<V>
}

/**
 * A collection: a map of objects keyed by `idOf(ctx)`, built from the blocks whose type
 * is the collection's name (picostore 3 style). Subclass it and implement `compute`:
 *
 * ```ts
 * store.register('tasks', class extends Memory<Task> {
 *   idOf ({ block }) { return block.sig }            // one object per creating block
 *   compute (task, { payload, reject, AUTHOR }) { ... return nextTask }
 *   expiresAt (task) { return task.created + 86_400_000 }
 * })
 * ```
 *
 * Values must be CBOR-encodable (they are persisted per object). Treat them as immutable:
 * return a new value from `compute` instead of changing the one you were given.
 */
export abstract class Memory<V = Payload> {
  /** Value of an object before its first block (cloned per object). */
  initialValue: V | undefined = undefined
  /** The collection's name (= the block type it consumes). */
  readonly name: string
  /** The store it is registered in. */
  readonly store: StoreHost

  /** Called by `store.register(name, Class)`; do not construct it yourself. */
  constructor(store: StoreHost, name: string) {
    this.store = store
    this.name = name
  }

  /**
   * Which object a block belongs to. Default: the block's author (one object per peer).
   * Bytes become hex and numbers strings, so ids are always strings in `state`.
   */
  idOf(ctx: BlockContext<undefined>): ObjectId | Promise<ObjectId> {
    return ctx.AUTHOR
  }

  /**
   * Input consensus and reducer in one: returns the object's next value, `ctx.reject(reason)`,
   * `ctx.postpone(ms)`, `ctx.delete()` (the object goes, a tombstone keeps it gone until
   * its expiry), or `undefined` to leave the block to other consumers.
   * `value` is the current value (or a clone of `initialValue` for a new object).
   */
  abstract compute(value: V, ctx: ComputeContext<V>): ComputeResult<V> | Promise<ComputeResult<V>>

  /**
   * When the object is forgotten, in ms since the epoch (default `Infinity`: never). Must
   * depend only on the value and the block (never on the arrival time), so every peer agrees.
   */
  expiresAt(_value: V, _ctx: ComputeContext<V>): number {
    return Number.POSITIVE_INFINITY
  }

  /**
   * Receives signals raised by any block (after that block is merged); call `mutate` to
   * change objects of this collection. Optional.
   */
  trap?(signal: Signal, mutate: Mutate<V>): void

  /**
   * Orders the collection can be queried in besides id order (`query({ index: name })`),
   * by name: each gives an object's key in that order, a string without NUL compared as
   * UTF-8 bytes (zero-pad numbers, e.g. `String(task.updated).padStart(16, '0')`). The keys
   * are kept on disk with the object, in the same batch. Default: none.
   */
  orders: Record<string, (value: V, id: string) => string> = {}

  /**
   * Keep every value of the collection in memory (default true): `state`, `readState`,
   * `hasState`, `sub` and `store.on(name)` work, at the cost of memory for every object
   * and of reading every object at `load()`. Set it to `false` for large collections: then
   * only the read API (`get`, `query`, `count`, `onChange`) is there (the others throw
   * STORE_INVALID_SLICE), objects live on disk behind a bounded cache, and `load()` reads
   * none of them.
   */
  snapshot = true

  /**
   * The live object `id`, or `undefined`.
   * @throws STORE_NOT_LOADED before the store loads; STORE_CLOSED after it closes
   */
  get(id: ObjectId): Promise<V | undefined> {
    return viewOf(this).get(normalizeId(id))
  }

  /**
   * One page of live objects, read from disk: in id order, or with `index` in that declared
   * order (bounds then compare order keys). `next` is the query for the following page,
   * absent at the end. `limit` defaults to 100 (at most 10,000).
   * @throws STORE_INVALID_SLICE for an undeclared order or a bad limit;
   *   STORE_NOT_LOADED, STORE_CLOSED
   */
  query(q?: QueryOptions): Promise<QueryPage<V>> {
    return viewOf(this).query(q)
  }

  /**
   * How many objects are live.
   * @throws STORE_NOT_LOADED, STORE_CLOSED
   */
  count(): Promise<number> {
    return viewOf(this).count()
  }

  /**
   * Calls `fn({ id, value })` after each change of one object (`value` undefined when it
   * went away), once per object per operation, after the change is written. Returns the
   * unsubscribe function. `reload()` sends no per-object events: query again after it.
   */
  onChange(fn: (change: ObjectChange<V>) => void): () => void {
    return viewOf(this).onChange(fn)
  }

  /**
   * Every live object by id (read-only; updated in place after each change): a snapshot
   * for small collections. It holds the whole collection in memory; for large ones use
   * {@link Memory.query}, {@link Memory.get} and {@link Memory.onChange}.
   */
  get state(): Readonly<Record<string, V>> {
    return viewOf(this).values
  }

  /** The object `id`, or a clone of `initialValue` when there is none. */
  readState(id: ObjectId): V | undefined {
    const value = viewOf(this).values[normalizeId(id)]
    return value !== undefined ? value : cloneValue(this.initialValue)
  }

  /** True when object `id` is live. */
  hasState(id: ObjectId): boolean {
    return normalizeId(id) in viewOf(this).values
  }

  /** Calls `fn(state)` now and after each change; returns the unsubscribe function. */
  sub(fn: Observer<Readonly<Record<string, V>>>): () => void {
    return viewOf(this).subscribe(fn)
  }
}

/** Hex for bytes, decimal for numbers, the string itself otherwise. */
export function normalizeId(id: ObjectId): string {
  if (typeof id === 'string') return id
  if (typeof id === 'number') return String(id)
  let out = ''
  for (let i = 0; i < id.length; i++) out += id[i]!.toString(16).padStart(2, '0')
  return out
}

/** A deep copy of a plain value (structuredClone; primitives as they are). */
export function cloneValue<V>(value: V): V {
  return value === null || typeof value !== 'object' ? value : structuredClone(value)
}

/**
 * A slice (picostore 2 / README style): one value built from every block its filter
 * accepts. Every block is offered to every slice.
 */
export interface SliceSpec<S = Payload> {
  /** Name under `store.state` and `store.on`. */
  name: string
  /** State before any block (cloned). */
  initialValue: S
  /**
   * Input consensus. Falsy = accept; `true` = not mine (ignore); a string or an Error =
   * reject with that reason (`ctx.reject`/`ctx.postpone` results work too).
   */
  filter?(ctx: BlockContext<S>): unknown
  /** Output: the next state, a pure function of the context. */
  reducer(ctx: BlockContext<S>): S
  /**
   * When this block's contribution is forgotten (ms since the epoch; default `Infinity`).
   * At that time the slice is recomputed from its remaining blocks.
   */
  expiresAt?(ctx: BlockContext<S>): number
  /** Receives signals (after the signalling block is merged); returns the next state or `undefined`. */
  trap?(signal: Signal, state: S): S | undefined
}

/** What `store.register(spec)` returns. */
export interface SliceHandle<S> {
  /** The slice's name. */
  readonly name: string
  /** Current value. */
  readonly state: S
  /** Calls `fn(state)` now and after each change; returns the unsubscribe function. */
  sub(fn: Observer<S>): () => void
}
