import type { Readable, Subscribable } from './readable.ts'
import { View } from './view.ts'

/**
 * A view of `fn(value)` for each value of `source`. While the source's value is the same
 * object (`Object.is`), `fn` is not called again and the view keeps the same result (a
 * stable snapshot, also when read through `value` without subscribing).
 * @param source - the view (or any Svelte-compatible store) to derive from
 * @param fn - computes the derived value; keep it pure
 */
export function map<S, T>(source: Subscribable<S>, fn: (value: S) => T): Readable<T> {
  let last: { input: S; output: T } | undefined
  const compute = (input: S): T => {
    if (last && Object.is(last.input, input)) return last.output
    last = { input, output: fn(input) }
    return last.output
  }
  return new View<T>(undefined as T, (set, invalidate) =>
    source.subscribe((value) => set(compute(value)), invalidate),
  )
}
