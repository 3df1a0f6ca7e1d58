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
export { decodeBlock, encodeBlock, Memory, Store } from '@picostack/store'
export { openDatabase } from './database.ts'
export { KernelError, type KernelErrorCode } from './errors.ts'
export { type KernelOptions, SimpleKernel } from './kernel.ts'
export type { Readable } from './readable.ts'
export type { Peer, SyncOptions } from './sync/engine.ts'
export {
  DEFAULT_SYNC_LIMITS,
  NODE_ID_BYTES,
  PROTOCOL_VERSION,
  type SyncLimits,
} from './sync/limits.ts'
export {
  decodeMessage,
  encodeMessage,
  type Message,
  MessageType,
} from './sync/messages.ts'
export type { SessionStats } from './sync/session.ts'
