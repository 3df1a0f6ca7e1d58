export type {
  CollectionChange,
  CollectionItem,
  CollectionPage,
  CollectionQuery,
  CollectionReader,
} from './collection.ts'
export { countView, objectView } from './collection-views.ts'
export { combine, type ValuesOf } from './combine.ts'
export { ViewsError, type ViewsErrorCode } from './errors.ts'
export { filter, gate } from './filter.ts'
export { map } from './map.ts'
export { memo, shallowEqual } from './memo.ts'
export { compareUtf8 } from './order.ts'
export { next, until, type WaitOptions } from './promises.ts'
export {
  type QueryState,
  type QueryView,
  type QueryViewOptions,
  queryView,
} from './query-view.ts'
export type { Readable, Subscribable, Subscriber, Unsubscribe } from './readable.ts'
export { type SettleOptions, settle } from './settle.ts'
export { type SliceSource, sliceView } from './slice-view.ts'
export { systemTimer, type Timer } from './timer.ts'
export {
  fromSubscribable,
  type Invalidate,
  readable,
  type SetValue,
  type StartView,
  View,
  Writable,
} from './view.ts'
