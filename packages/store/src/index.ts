export {
  type BlockCodec,
  cborBlockCodec,
  type DecodedBlock,
  type DecodedBody,
  decodeBlock,
  decodeBody,
  encodeBlock,
} from './body-codec.ts'
export { type Clock, systemClock } from './clock.ts'
export {
  type BlockContext,
  type ComputeContext,
  Deletion,
  type Payload,
  Postponement,
  Rejection,
  type Signal,
} from './context.ts'
export { StoreError, type StoreErrorCode } from './errors.ts'
export {
  type ComputeResult,
  Memory,
  type Mutate,
  type ObjectChange,
  type ObjectId,
  type Observer,
  type SliceHandle,
  type SliceSpec,
  type StoreHost,
} from './memory.ts'
export type { MempoolLimits } from './mempool.ts'
export {
  DEFAULT_QUERY_LIMIT,
  MAX_QUERY_LIMIT,
  type QueryItem,
  type QueryOptions,
  type QueryPage,
} from './query.ts'
export {
  DEFAULT_CACHE_OBJECTS,
  type DispatchOptions,
  type DispatchResult,
  type GcResult,
  type MemoryClass,
  type Refusal,
  Store,
  type StoreOptions,
} from './store.ts'
