import type { Readable } from './readable.ts'
import { View } from './view.ts'

/**
 * What {@link sliceView} reads: `on(name, fn)` calls `fn` with the value of `name` now and
 * after each change and returns the unsubscribe (`Store.on` of `@picostack/store`).
 */
export interface SliceSource {
  /** Subscribes to the value registered as `name`. */
  on(name: string, fn: (value: never) => void): () => void
}

/**
 * A view of a store's slice (or of a collection that keeps a snapshot), subscribed to the
 * store only while the view has subscribers.
 * @param store - the store (or the kernel's `store`)
 * @param name - the registered name
 * @throws STORE_INVALID_SLICE (from the store, on first subscription) when nothing is registered as `name`
 */
export function sliceView<S>(store: SliceSource, name: string): Readable<S> {
  return new View<S>(undefined as S, (set) => store.on(name, set as (value: never) => void))
}
