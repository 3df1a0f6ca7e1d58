export {
  Block,
  bytesEqual,
  Feed,
  type FeedLike,
  fromHex,
  getPublicKey,
  PicoError,
  signPair,
  toHex,
} from '@picostack/feed'
export { Hub, type Plug, picoWire, streamWire, wsWire } from '@picostack/net'
export { Repo } from '@picostack/repo'
export { type Clock, decodeBlock, encodeBlock, Memory, Store } from '@picostack/store'
export { openDatabase } from './database.ts'
export { KernelError, type KernelErrorCode } from './errors.ts'
export { type KernelOptions, SimpleKernel } from './kernel.ts'
export type { RandomBytes } from './random.ts'
export type { Readable } from './readable.ts'
export type { DirectLink, DirectLinkOptions, LinkState } from './signal/direct-links.ts'
export { DEFAULT_SIGNAL_LIMITS, type SignalLimits } from './signal/limits.ts'
export type { SignalOptions } from './signal/signalling.ts'
export type { Peer, SyncOptions } from './sync/engine.ts'
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
  type Query,
  type Segment,
  type Summary,
  type SyncSignal,
  type Want,
} from './sync/messages.ts'
export type { SessionStats } from './sync/session.ts'
