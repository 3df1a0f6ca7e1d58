import type { CollectionReader } from './collection.ts'
import type { Readable } from './readable.ts'
import { View } from './view.ts'

/**
 * A live view of one object of a collection: `undefined` until `get(id)` answers (and
 * when there is no such object), then its value after each change of that object. A
 * change that arrives before the read answers wins over it (it is newer).
 * @param collection - the collection's read API
 * @param id - the object's id
 */
export function objectView<V>(
  collection: CollectionReader<V>,
  id: string,
): Readable<V | undefined> {
  return new View<V | undefined>(undefined, (set) => {
    let changed = false
    let live = true
    const stop = collection.onChange((change) => {
      if (change.id !== id) return
      changed = true
      set(change.value)
    })
    collection.get(id).then(
      (value) => {
        if (live && !changed) set(value)
      },
      () => {
        // Nothing to show yet; the next change of the object sets it.
      },
    )
    return () => {
      live = false
      stop()
    }
  })
}

/**
 * A live view of how many objects a collection holds: `undefined` until the first
 * `count()` answers, then counted again after changes (one count at a time: a burst of
 * changes costs one more count, not one each). A failed count keeps the last value; the
 * next change counts again.
 * @param collection - the collection's read API
 */
export function countView<V>(collection: CollectionReader<V>): Readable<number | undefined> {
  return new View<number | undefined>(undefined, (set) => {
    let live = true
    let counting = false
    let again = false
    const recount = () => {
      if (counting) {
        again = true
        return
      }
      counting = true
      collection
        .count()
        .then(
          (count) => {
            if (live) set(count)
          },
          () => {
            // Keep the last value; the next change counts again.
          },
        )
        .finally(() => {
          counting = false
          if (live && again) {
            again = false
            recount()
          }
        })
    }
    const stop = collection.onChange(recount)
    recount()
    return () => {
      live = false
      stop()
    }
  })
}
