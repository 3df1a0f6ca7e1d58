/**
 * Paged reads of a collection straight from the store's registry: in id order (`o` keys)
 * or in the order of one the collection declares (`x` keys, `Memory.orders`). See
 * layout.ts for the keys and the package README for the contract.
 */

import { utf8 } from '@picostack/feed'
import type { Registry } from '@picostack/repo'
import { StoreError } from './errors.ts'
import { concatBytes, key, objectKey, TAG } from './layout.ts'
import { objectFrom, objectIdOf } from './records.ts'

/** Objects per page when `limit` is not given. */
export const DEFAULT_QUERY_LIMIT = 100
/** Most objects one page may hold. */
export const MAX_QUERY_LIMIT = 10_000

/**
 * A page request for `collection.query(q)`. Bounds compare object ids (as UTF-8 bytes), or
 * with `index` the keys of that declared order; `next` of a page is the query of the page
 * after it.
 */
export interface QueryOptions {
  /** Only ids (or order keys) greater than this. */
  gt?: string
  /** Only ids (or order keys) greater than or equal to this. */
  gte?: string
  /** Only ids (or order keys) less than this. */
  lt?: string
  /** Only ids (or order keys) less than or equal to this. */
  lte?: string
  /** Most objects in the page (default {@link DEFAULT_QUERY_LIMIT}, at most {@link MAX_QUERY_LIMIT}). */
  limit?: number
  /** Descending order (default ascending). */
  reverse?: boolean
  /** Name of an order the collection declares in `orders`; default: id order. */
  index?: string
}

/** One object of a page. */
export interface QueryItem<V> {
  /** The object's id. */
  id: string
  /** Its value. */
  value: V
}

/** One page of objects. */
export interface QueryPage<V> {
  /** The objects, in the order asked for. */
  items: QueryItem<V>[]
  /** The query for the following page; absent at the end. */
  next?: QueryOptions
}

const ZERO = Uint8Array.of(0)
const ONE = Uint8Array.of(1)
const TOP = Uint8Array.of(0xff) // never in UTF-8, so above every id and order key

type Bound = 'gt' | 'gte' | 'lt' | 'lte'

/**
 * The key bound for `value` under `prefix`. An id, or an order position with its id (the
 * cursor `next` carries: order key, NUL, id), is exact; a bare order key stands for every
 * entry under it.
 */
function boundKey(prefix: Uint8Array, bound: Bound, value: string, exact: boolean): Uint8Array {
  const bytes = concatBytes(prefix, utf8(value))
  const after = exact ? ZERO : ONE
  if (bound === 'gte' || bound === 'lt') return exact ? bytes : concatBytes(bytes, ZERO)
  return concatBytes(bytes, after)
}

function larger(a: Uint8Array, b: Uint8Array): boolean {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! > b[i]!
  return a.length > b.length
}

/**
 * Reads one page of collection `name` from `registry`.
 * @throws STORE_INVALID_SLICE for an order the collection does not declare, or a bad limit
 */
export async function queryCollection<V>(
  registry: Registry,
  name: string,
  orders: readonly string[],
  q: QueryOptions = {},
): Promise<QueryPage<V>> {
  const limit = q.limit ?? DEFAULT_QUERY_LIMIT
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_QUERY_LIMIT) {
    throw new StoreError(
      'STORE_INVALID_SLICE',
      `limit must be an integer from 1 to ${MAX_QUERY_LIMIT}`,
    )
  }
  const index = q.index
  if (index !== undefined && !orders.includes(index)) {
    throw new StoreError('STORE_INVALID_SLICE', `collection "${name}" declares no order "${index}"`)
  }
  const prefix = index === undefined ? key(TAG.object, name) : key(TAG.order, name, index)
  const exact = (value: string) => index === undefined || value.includes('\0')
  let gte = prefix
  let lt = concatBytes(prefix, TOP)
  for (const bound of ['gt', 'gte'] as const) {
    const value = q[bound]
    if (value === undefined) continue
    const at = boundKey(prefix, bound, value, exact(value))
    if (larger(at, gte)) gte = at
  }
  for (const bound of ['lt', 'lte'] as const) {
    const value = q[bound]
    if (value === undefined) continue
    const at = boundKey(prefix, bound, value, exact(value))
    if (larger(lt, at)) lt = at
  }
  const reverse = q.reverse === true
  const items: QueryItem<V>[] = []
  const cursors: string[] = []
  const skip = prefix.length
  const decoder = new TextDecoder()
  for await (const [k, v] of registry.entries({ gte, lt, limit: limit + 1, reverse })) {
    if (index === undefined) {
      const id = objectIdOf(k, skip)
      items.push({ id, value: objectFrom(v).value as V })
      cursors.push(id)
      continue
    }
    const position = decoder.decode(k.subarray(skip))
    const id = position.slice(position.indexOf('\0') + 1)
    const stored = await registry.get(objectKey(name, id))
    if (!stored) continue // removed since the order entry was read
    items.push({ id, value: objectFrom(stored).value as V })
    cursors.push(position)
  }
  if (items.length <= limit) return { items }
  items.length = limit
  const cursor = cursors[limit - 1]!
  const next: QueryOptions = { ...q, limit }
  if (reverse) {
    delete next.lte
    next.lt = cursor
  } else {
    delete next.gte
    next.gt = cursor
  }
  return { items, next }
}
