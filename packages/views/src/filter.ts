import type { Readable, Subscribable } from './readable.ts'
import { View } from './view.ts'

/**
 * A view of the values of `source` that pass `predicate`; the others are skipped and the
 * view keeps the last value that passed (`initial` before any did).
 * @param source - the view to follow
 * @param predicate - which values pass
 * @param initial - the value until one passes
 */
export function filter<T, I = T>(
  source: Subscribable<T>,
  predicate: (value: T) => boolean,
  initial: I,
): Readable<T | I> {
  let passed: T | I = initial
  return new View<T | I>(initial, (set, invalidate) =>
    source.subscribe((value) => {
      if (predicate(value)) passed = value
      set(passed)
    }, invalidate),
  )
}

/**
 * A view of `source` that follows it while `open` is true and holds its last value while
 * `open` is false; when the gate opens again the view catches up with the source's latest
 * value (e.g. hold a list still while the user drags an item). The first value passes
 * whatever the gate says, so a subscriber always gets one at once.
 * @param source - the view to follow
 * @param open - the gate: a view of booleans
 */
export function gate<T>(source: Subscribable<T>, open: Subscribable<boolean>): Readable<T> {
  return new View<T>(undefined as T, (set, invalidate) => {
    let isOpen = false
    let started = false
    let latest: T
    let held: T
    const pass = () => {
      if (isOpen || !started) held = latest
      set(held)
    }
    const stopOpen = open.subscribe((value) => {
      isOpen = value
      if (started) pass()
    }, invalidate)
    const stopSource = source.subscribe((value) => {
      latest = value
      pass()
    }, invalidate)
    started = true
    return () => {
      stopSource()
      stopOpen()
    }
  })
}
