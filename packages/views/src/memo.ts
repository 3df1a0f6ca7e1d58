import type { Readable, Subscribable } from './readable.ts'
import { View } from './view.ts'

/**
 * A view of `source` that skips values equal to the last one it passed on (`equals`,
 * default `Object.is`), keeping the earlier object: the way to stop a new-but-equal array
 * from re-rendering everything downstream.
 * @param source - the view to follow
 * @param equals - when two values count as the same (e.g. {@link shallowEqual})
 */
export function memo<T>(
  source: Subscribable<T>,
  equals: (a: T, b: T) => boolean = Object.is,
): Readable<T> {
  let kept: { value: T } | undefined
  return new View<T>(undefined as T, (set, invalidate) =>
    source.subscribe((value) => {
      if (kept && equals(kept.value, value)) {
        set(kept.value)
        return
      }
      kept = { value }
      set(value)
    }, invalidate),
  )
}

/**
 * Equality one level deep: the same value (`Object.is`), or two arrays with the same
 * elements, or two plain objects with the same keys and values (each by `Object.is`).
 * @param a - one value
 * @param b - the other
 */
export function shallowEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  const keysA = Object.keys(a)
  const keysB = Object.keys(b)
  if (keysA.length !== keysB.length) return false
  const recordA = a as Record<string, unknown>
  const recordB = b as Record<string, unknown>
  return keysA.every((key) => Object.hasOwn(recordB, key) && Object.is(recordA[key], recordB[key]))
}
