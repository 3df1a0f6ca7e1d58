import type { Readable } from '@picostack/views'
import { useCallback, useSyncExternalStore } from 'react'

/**
 * The current value of a view, re-rendering the component when it changes. Built on
 * `useSyncExternalStore`: every render of one commit reads the same snapshot (views keep
 * the same object until a change, so concurrent rendering never tears), the subscription
 * is made after commit and ended on unmount or when `view` changes. Server rendering reads
 * `view.value`.
 * @param view - any view (`map(...)`, `kernel.connections`, a query view); keep its identity
 *   stable across renders (`useMemo`), or the hook subscribes again each render
 */
export function useView<T>(view: Readable<T>): T {
  const subscribe = useCallback(
    (onChange: () => void) => {
      let first = true
      return view.subscribe(() => {
        if (first) first = false
        else onChange()
      })
    },
    [view],
  )
  const snapshot = useCallback(() => view.value, [view])
  return useSyncExternalStore(subscribe, snapshot, snapshot)
}
