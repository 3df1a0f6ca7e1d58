/**
 * A page query over a collection (the shape of `@picostack/store`'s `QueryOptions`):
 * bounds on the id (or, with `index`, on the declared order's key), a page size, the
 * direction, and the declared order to read in.
 */
export interface CollectionQuery {
  /** Only keys greater than this. */
  gt?: string
  /** Only keys greater than or equal to this. */
  gte?: string
  /** Only keys less than this. */
  lt?: string
  /** Only keys less than or equal to this. */
  lte?: string
  /** Objects per page (the store's default is 100). */
  limit?: number
  /** Newest key first. */
  reverse?: boolean
  /** A declared order to read in (default: id order). */
  index?: string
}

/** One object of a page: its id and value. */
export interface CollectionItem<V> {
  /** The object's id. */
  id: string
  /** The object's value. */
  value: V
}

/** A page of objects, and the query for the page after it (absent at the end). */
export interface CollectionPage<V> {
  /** The objects, in the query's order. */
  items: CollectionItem<V>[]
  /** The query that reads the following page; absent when this page is the last. */
  next?: CollectionQuery
}

/** One object changed (`value`) or went away (`value` undefined). */
export interface CollectionChange<V> {
  /** The object's id. */
  id: string
  /** The new value; `undefined` when the object is gone. */
  value: V | undefined
}

/**
 * What collection views read: the read API of a collection handle
 * (`store.register(name, class extends Memory {...})` in `@picostack/store`), stated here
 * structurally so any object with these four methods works (a fake in tests, a remote
 * collection).
 */
export interface CollectionReader<V> {
  /** One object by id, or `undefined`. */
  get(id: string): Promise<V | undefined>
  /** One page of objects. */
  query(q?: CollectionQuery): Promise<CollectionPage<V>>
  /** How many objects the collection holds. */
  count(): Promise<number>
  /** Calls `fn` after each object change; returns the unsubscribe. */
  onChange(fn: (change: CollectionChange<V>) => void): () => void
  /**
   * The declared orders by name, each giving an object's order key (`Memory.orders`):
   * how a query view with `index` places a changed object. Optional.
   */
  readonly orders?: Readonly<Record<string, (value: V, id: string) => string>>
}
