import type {
  CollectionChange,
  CollectionItem,
  CollectionPage,
  CollectionQuery,
  CollectionReader,
} from './collection.ts'
import { ViewsError } from './errors.ts'
import { comparePositions, type Position, withinBounds } from './order.ts'
import type { Readable } from './readable.ts'
import { View } from './view.ts'

/** What a {@link QueryView} shows: the pages read so far, kept current. */
export interface QueryState<V> {
  /** The objects of the pages read so far, in the query's order, kept current by changes. */
  readonly items: readonly CollectionItem<V>[]
  /** A page is being read. */
  readonly loading: boolean
  /** Every page is read: `items` holds everything the query matches. */
  readonly done: boolean
  /** Why the last read failed (`VIEWS_QUERY_FAILED`, the read's error as `cause`). */
  readonly error: ViewsError | undefined
}

/** Options of {@link queryView}. */
export interface QueryViewOptions<V> {
  /**
   * The order key of an object, for a query with `index`: the same key the collection's
   * declared order gives it, so a changed object moves to its place. Default: the
   * collection's `orders[index]`; needed with `index` when the collection has none.
   */
  keyOf?: (value: V, id: string) => string
}

/** A view of a paged collection query that also reads more pages. */
export interface QueryView<V> extends Readable<QueryState<V>> {
  /**
   * Reads the next page and appends it (or retries the read that failed). Does nothing
   * when every page is read, a read is under way, or nobody subscribes.
   */
  more(): Promise<void>
}

const STARTING: QueryState<never> = Object.freeze({
  items: Object.freeze([]),
  loading: true,
  done: false,
  error: undefined,
})

/**
 * A live view of a collection query, a page at a time: subscribing reads the first page;
 * `more()` reads the next one; after that every object change (`onChange`) updates the
 * pages read in place, without reading them again: a changed object is replaced (or moved
 * to its order key), a new one inserted where it belongs if that place is within the pages
 * read (later places come with their page), a gone one removed. Each change makes a new
 * state object (the old ones never change: stable snapshots).
 *
 * Nobody subscribed: nothing is read or followed, `value` is the starting state; the next
 * subscriber starts again from the first page.
 * @param collection - the collection's read API
 * @param query - the query of the first page (bounds, `limit`, `reverse`, `index`)
 * @param options - `keyOf` for a query with `index`
 * @throws VIEWS_INVALID_INPUT for a query with `index` but no `keyOf` nor such an order
 */
export function queryView<V>(
  collection: CollectionReader<V>,
  query: CollectionQuery = {},
  options: QueryViewOptions<V> = {},
): QueryView<V> {
  const keyOf =
    query.index === undefined
      ? (_value: V, id: string) => id
      : (options.keyOf ?? collection.orders?.[query.index])
  if (!keyOf) {
    throw new ViewsError(
      'VIEWS_INVALID_INPUT',
      `a query in order "${query.index}" needs keyOf (or the collection's orders) to place changed objects`,
    )
  }
  return new PagedQuery(collection, query, keyOf)
}

class PagedQuery<V> extends View<QueryState<V>> implements QueryView<V> {
  readonly #collection: CollectionReader<V>
  readonly #query: CollectionQuery
  readonly #keyOf: (value: V, id: string) => string
  /** Bumped on every start and stop: a read that returns into another run is dropped. */
  #run = 0
  #state: QueryState<V> = STARTING
  /** The query of the next page; undefined when done. */
  #cursor: CollectionQuery | undefined
  /** The last position the pages read cover; undefined before any, or when done. */
  #boundary: Position | undefined
  /** Changes that arrived while a page was being read, applied after it. */
  #pending: CollectionChange<V>[] | undefined
  #reading: Promise<void> | undefined

  constructor(
    collection: CollectionReader<V>,
    query: CollectionQuery,
    keyOf: (value: V, id: string) => string,
  ) {
    super(STARTING as QueryState<V>)
    this.#collection = collection
    this.#query = query
    this.#keyOf = keyOf
  }

  override get value(): QueryState<V> {
    return this.current
  }

  more(): Promise<void> {
    if (!this.active || this.#reading || this.#state.done) return this.#reading ?? Promise.resolve()
    return this.#read(this.#run)
  }

  protected override start(set: (state: QueryState<V>) => void): () => void {
    const run = ++this.#run
    this.#publish = set
    this.#state = STARTING as QueryState<V>
    this.#cursor = { ...this.#query }
    this.#boundary = undefined
    this.#pending = undefined
    this.#reading = undefined
    set(this.#state)
    const stopChanges = this.#collection.onChange((change) => {
      if (run !== this.#run) return
      if (this.#pending) this.#pending.push(change)
      else this.#commit({ items: this.#apply(this.#state.items, change) })
    })
    void this.#read(run)
    return () => {
      this.#run++
      stopChanges()
      this.#reading = undefined
      this.#pending = undefined
    }
  }

  #publish: (state: QueryState<V>) => void = () => {}

  #commit(patch: Partial<QueryState<V>>): void {
    this.#state = Object.freeze({ ...this.#state, ...patch })
    this.#publish(this.#state)
  }

  #read(run: number): Promise<void> {
    const cursor = this.#cursor!
    this.#pending = []
    if (!this.#state.loading || this.#state.error) this.#commit({ loading: true, error: undefined })
    const reading = this.#collection.query(cursor).then(
      (page) => {
        if (run === this.#run) this.#append(page)
      },
      (cause: unknown) => {
        if (run !== this.#run) return
        const pending = this.#pending ?? []
        this.#pending = undefined
        this.#reading = undefined
        let items = this.#state.items
        for (const change of pending) items = this.#apply(items, change)
        const error = new ViewsError('VIEWS_QUERY_FAILED', 'reading a page failed', { cause })
        this.#commit({ items, loading: false, error })
      },
    )
    this.#reading = reading
    return reading
  }

  #append(page: CollectionPage<V>): void {
    const pending = this.#pending ?? []
    this.#pending = undefined
    this.#reading = undefined
    const fresh = new Set(page.items.map((item) => item.id))
    let items: readonly CollectionItem<V>[] = [
      ...this.#state.items.filter((item) => !fresh.has(item.id)),
      ...page.items.map((item) => Object.freeze({ id: item.id, value: item.value })),
    ]
    this.#cursor = page.next
    const last = page.items.at(-1)
    if (!page.next) this.#boundary = undefined
    else if (last) this.#boundary = this.#position(last)
    for (const change of pending) items = this.#apply(items, change)
    this.#commit({
      items: Object.freeze(items),
      loading: false,
      done: !page.next,
      error: undefined,
    })
  }

  #position(item: CollectionItem<V>): Position {
    return { key: this.#keyOf(item.value, item.id), id: item.id }
  }

  /** Compares two positions in the query's direction. */
  #compare(a: Position, b: Position): number {
    const order = comparePositions(a, b)
    return this.#query.reverse ? -order : order
  }

  /** Whether a position lies in the pages read so far (later ones come with their page). */
  #covers(position: Position): boolean {
    if (!withinBounds(position.key, this.#query)) return false
    if (this.#state.done || this.#cursor === undefined) return true
    if (!this.#boundary) return false
    return this.#compare(position, this.#boundary) <= 0
  }

  #apply(
    items: readonly CollectionItem<V>[],
    { id, value }: CollectionChange<V>,
  ): readonly CollectionItem<V>[] {
    const at = items.findIndex((item) => item.id === id)
    if (at < 0 && value === undefined) return items
    const next = at < 0 ? [...items] : [...items.slice(0, at), ...items.slice(at + 1)]
    if (value !== undefined) {
      const position = { key: this.#keyOf(value, id), id }
      if (this.#covers(position)) {
        let low = 0
        let high = next.length
        while (low < high) {
          const mid = (low + high) >>> 1
          if (this.#compare(this.#position(next[mid]!), position) < 0) low = mid + 1
          else high = mid
        }
        next.splice(low, 0, Object.freeze({ id, value }))
      }
    }
    return Object.freeze(next)
  }
}
