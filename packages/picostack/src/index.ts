export {
  Block,
  bytesEqual,
  Feed,
  FeedError,
  type FeedErrorCode,
  type FeedLike,
  fromHex,
  getPublicKey,
  PicoError,
  type SecretKey,
  signPair,
  toHex,
} from '@picostack/feed'
export {
  type DuplexLike,
  Hub,
  NetError,
  type NetErrorCode,
  type Plug,
  picoWire,
  streamWire,
  type WebSocketLike,
  wsWire,
} from '@picostack/net'
export {
  type ChainSummary,
  type LevelDatabase,
  type MergeStrategy,
  Repo,
  RepoError,
  type RepoErrorCode,
} from '@picostack/repo'
export {
  type BlockContext,
  type Clock,
  type ComputeContext,
  type ComputeResult,
  type DecodedBlock,
  type DecodedBody,
  decodeBlock,
  encodeBlock,
  Memory,
  type MemoryClass,
  type Mutate,
  type ObjectChange,
  type ObjectId,
  type Observer,
  type Payload,
  type QueryOptions,
  type QueryPage,
  type Signal,
  type SliceHandle,
  type SliceSpec,
  Store,
  StoreError,
  type StoreErrorCode,
  type StoreOptions,
} from '@picostack/store'
export { openDatabase } from './database.ts'
export { KernelError, type KernelErrorCode } from './errors.ts'
export { type KernelOptions, SimpleKernel } from './kernel.ts'
export type { RandomBytes } from './random.ts'
export type { Readable } from './readable.ts'
export type { DirectLink, DirectLinkOptions, LinkState } from './signal/direct-links.ts'
export { DEFAULT_SIGNAL_LIMITS, type SignalLimits } from './signal/limits.ts'
export type { SignalOptions } from './signal/signalling.ts'
export type { Peer, SpawnOptions, SyncOptions } from './sync/engine.ts'
export {
  DEFAULT_SYNC_LIMITS,
  MIN_PATCH_BYTES,
  NODE_ID_BYTES,
  PATCH_OVERHEAD_BYTES,
  PROTOCOL_VERSION,
  SEGMENT_OVERHEAD_BYTES,
  type SyncLimits,
} from './sync/limits.ts'
export {
  type Ack,
  type Answer,
  type ChainHead,
  type DecodeLimits,
  decodeMessage,
  type ErrorMessage,
  encodeMessage,
  type Hello,
  MAX_ERROR_CODE_CHARS,
  MAX_ERROR_REASON_CHARS,
  MAX_HEIGHT,
  type Message,
  MessageType,
  type Patch,
  type Ping,
  type Query,
  type Segment,
  type Summary,
  type SyncSignal,
  type Want,
} from './sync/messages.ts'
export type { SessionStats } from './sync/session.ts'
