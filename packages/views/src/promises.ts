import { ViewsError } from './errors.ts'
import type { Subscribable } from './readable.ts'
import { systemTimer, type Timer } from './timer.ts'

/** Options of {@link until} and {@link next}. */
export interface WaitOptions {
  /** Give up after this many milliseconds (default: wait forever). */
  timeoutMs?: number
  /** Where the timeout is timed (default: the global timers). */
  timer?: Timer
}

/**
 * Resolves with the first value of `view` that passes `predicate`, the current one
 * included (so it resolves at once when the view already passes), then unsubscribes.
 * @param view - the view to watch
 * @param predicate - the value waited for
 * @param options - `timeoutMs` and its `timer`
 * @throws VIEWS_TIMEOUT (rejects) when `timeoutMs` passes first; the subscription ends too
 * @throws VIEWS_INVALID_INPUT (rejects) for a negative or non-finite `timeoutMs`
 */
export function until<T>(
  view: Subscribable<T>,
  predicate: (value: T) => boolean,
  options: WaitOptions = {},
): Promise<T> {
  return wait(view, predicate, false, options)
}

/**
 * Resolves with the next value of `view` after the current one, then unsubscribes.
 * @param view - the view to watch
 * @param options - `timeoutMs` and its `timer`
 * @throws VIEWS_TIMEOUT (rejects) when `timeoutMs` passes first
 * @throws VIEWS_INVALID_INPUT (rejects) for a negative or non-finite `timeoutMs`
 */
export function next<T>(view: Subscribable<T>, options: WaitOptions = {}): Promise<T> {
  return wait(view, () => true, true, options)
}

function wait<T>(
  view: Subscribable<T>,
  predicate: (value: T) => boolean,
  skipCurrent: boolean,
  { timeoutMs, timer = systemTimer }: WaitOptions,
): Promise<T> {
  if (timeoutMs !== undefined && (!Number.isFinite(timeoutMs) || timeoutMs < 0)) {
    return Promise.reject(
      new ViewsError(
        'VIEWS_INVALID_INPUT',
        `timeoutMs must be a finite number >= 0, got ${timeoutMs}`,
      ),
    )
  }
  return new Promise<T>((resolve, reject) => {
    let done = false
    let stop: (() => void) | undefined
    let timeout: unknown
    const finish = () => {
      done = true
      stop?.()
      if (timeoutMs !== undefined) timer.clearTimeout(timeout)
    }
    let current = skipCurrent
    stop = view.subscribe((value) => {
      if (done) return
      if (current) {
        current = false
        return
      }
      let passes: boolean
      try {
        passes = predicate(value)
      } catch (err) {
        finish()
        reject(err)
        return
      }
      if (!passes) return
      finish()
      resolve(value)
    })
    if (done) {
      stop()
      return
    }
    if (timeoutMs !== undefined) {
      timeout = timer.setTimeout(() => {
        if (done) return
        finish()
        reject(new ViewsError('VIEWS_TIMEOUT', `no such value within ${timeoutMs} ms`))
      }, timeoutMs)
    }
  })
}
