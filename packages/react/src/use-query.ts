import {
  type CollectionQuery,
  type CollectionReader,
  objectView,
  type QueryState,
  type QueryViewOptions,
  queryView,
} from '@picostack/views'
import { useMemo } from 'react'
import { useView } from './use-view.ts'

/** What {@link useQuery} returns: the query's state and the function that reads more. */
export interface QueryResult<V> extends QueryState<V> {
  /** Reads the next page (does nothing when `done` or while a page is read). */
  more(): Promise<void>
}

/**
 * A live, paged collection query: renders the first page, then re-renders as `more()`
 * appends pages and as objects in the pages read change (the change events update them in
 * place; nothing is read again). The view is made once per `collection` and query (compared
 * by value), and only read after commit, so rendering has no side effect.
 * @param collection - the collection handle (`store.register(name, class extends Memory)`)
 * @param query - bounds, `limit` (page size), `reverse`, `index`
 * @param options - `keyOf` for an `index` the collection does not declare (read once)
 * @throws VIEWS_INVALID_INPUT for an `index` it cannot follow
 */
export function useQuery<V>(
  collection: CollectionReader<V>,
  query: CollectionQuery = {},
  options?: QueryViewOptions<V>,
): QueryResult<V> {
  const key = JSON.stringify(query)
  // biome-ignore lint/correctness/useExhaustiveDependencies: the query is compared by value (key); options are read once
  const view = useMemo(() => queryView(collection, query, options), [collection, key])
  const state = useView(view)
  return useMemo(() => ({ ...state, more: () => view.more() }), [state, view])
}

/**
 * One object of a collection (`undefined` while it is read and when there is none),
 * re-rendering when it changes.
 * @param collection - the collection handle
 * @param id - the object's id
 */
export function useObject<V>(collection: CollectionReader<V>, id: string): V | undefined {
  const view = useMemo(() => objectView(collection, id), [collection, id])
  return useView(view)
}
