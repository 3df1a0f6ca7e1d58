import { ViewsError } from './errors.ts'
import type { Readable, Subscribable } from './readable.ts'
import { systemTimer, type Timer } from './timer.ts'
import { View } from './view.ts'

/** Options of {@link settle}. */
export interface SettleOptions {
  /** Where the quiet period is timed (default: the global timers). */
  timer?: Timer
}

/**
 * A debounced view of `source`: the first value passes at once (a subscriber always gets
 * one), then a value passes only after `quietMs` without a newer one, so a burst of
 * changes (a sync catching up) reaches subscribers as its last value only.
 * @param source - the view to follow
 * @param quietMs - milliseconds without a change before the latest value passes
 * @throws VIEWS_INVALID_INPUT when `quietMs` is negative or not finite
 */
export function settle<T>(
  source: Subscribable<T>,
  quietMs: number,
  options: SettleOptions = {},
): Readable<T> {
  if (!Number.isFinite(quietMs) || quietMs < 0) {
    throw new ViewsError(
      'VIEWS_INVALID_INPUT',
      `quietMs must be a finite number >= 0, got ${quietMs}`,
    )
  }
  const timer = options.timer ?? systemTimer
  return new View<T>(undefined as T, (set) => {
    let first = true
    let pending: unknown
    let armed = false
    const stopSource = source.subscribe((value) => {
      if (first) {
        first = false
        set(value)
        return
      }
      if (armed) timer.clearTimeout(pending)
      armed = true
      pending = timer.setTimeout(() => {
        armed = false
        set(value)
      }, quietMs)
    })
    return () => {
      stopSource()
      if (armed) timer.clearTimeout(pending)
      armed = false
    }
  })
}
