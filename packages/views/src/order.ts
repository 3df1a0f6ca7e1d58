import type { CollectionQuery } from './collection.ts'

/**
 * Compares two strings as their UTF-8 bytes compare (the store's id and order-key order),
 * which is code point order; JavaScript's `<` compares UTF-16 units and differs above the
 * Basic Multilingual Plane.
 */
export function compareUtf8(a: string, b: string): number {
  const length = Math.min(a.length, b.length)
  for (let i = 0; i < length; i++) {
    const x = a.codePointAt(i)!
    const y = b.codePointAt(i)!
    if (x !== y) return x < y ? -1 : 1
    if (x > 0xffff) i++
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1
}

/** An object's place in an ordered query: its order key (the id in id order) and id. */
export interface Position {
  key: string
  id: string
}

/** Compares two positions: by key, ties by id. */
export function comparePositions(a: Position, b: Position): number {
  return compareUtf8(a.key, b.key) || compareUtf8(a.id, b.id)
}

/** Whether `key` lies within the query's bounds (`gt`, `gte`, `lt`, `lte`). */
export function withinBounds(key: string, q: CollectionQuery): boolean {
  if (q.gt !== undefined && compareUtf8(key, q.gt) <= 0) return false
  if (q.gte !== undefined && compareUtf8(key, q.gte) < 0) return false
  if (q.lt !== undefined && compareUtf8(key, q.lt) >= 0) return false
  if (q.lte !== undefined && compareUtf8(key, q.lte) > 0) return false
  return true
}
