import type { Readable, Subscribable } from './readable.ts'
import { View } from './view.ts'

/** The values of a tuple or record of sources, position by position or key by key. */
export type ValuesOf<S> = { [K in keyof S]: S[K] extends Subscribable<infer T> ? T : never }

/**
 * A view of the latest values of several sources together: an array for an array of
 * sources, a record for a record. It emits a new (frozen) array or record when any source
 * changes; while no source changed the view keeps the same object (a stable snapshot).
 * Over a diamond (`combine([a, map(a, f)])`) it computes once per change of `a`, after
 * every input has its new value (sources that announce their values, as views and Svelte
 * stores do).
 * @param sources - the views to combine, e.g. `[peers, tasks]` or `{ peers, tasks }`
 */
export function combine<
  const S extends readonly Subscribable<unknown>[] | Record<string, Subscribable<unknown>>,
>(sources: S): Readable<ValuesOf<S>> {
  const keys = Object.keys(sources) as (keyof S & string)[]
  const isArray = Array.isArray(sources)
  let last: ValuesOf<S> | undefined
  return new View<ValuesOf<S>>(undefined as unknown as ValuesOf<S>, (set, invalidate) => {
    const values: unknown[] = new Array(keys.length)
    /** Inputs that announced a new value not yet delivered: compute once they all have. */
    const pending = new Set<number>()
    let ready = false
    const emit = () => {
      const previous = last as Record<string, unknown> | undefined
      if (previous && keys.every((key, i) => Object.is(previous[key], values[i]))) {
        set(last as ValuesOf<S>)
        return
      }
      const out: Record<string, unknown> | unknown[] = isArray ? [...values] : {}
      if (!isArray)
        for (const [i, key] of keys.entries()) (out as Record<string, unknown>)[key] = values[i]
      last = Object.freeze(out) as ValuesOf<S>
      set(last)
    }
    const stops = keys.map((key, i) =>
      (sources as Record<string, Subscribable<unknown>>)[key]!.subscribe(
        (value) => {
          values[i] = value
          pending.delete(i)
          if (ready && pending.size === 0) emit()
        },
        () => {
          pending.add(i)
          invalidate()
        },
      ),
    )
    ready = true
    emit()
    return () => {
      for (const stop of stops) stop()
    }
  })
}
