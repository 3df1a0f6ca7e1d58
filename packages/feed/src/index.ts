export { Block } from './block.ts'
export { asBytes, bytesEqual, fromHex, fromUtf8, toHex, utf8 } from './bytes.ts'
export {
  type BlockLayout,
  blockSizeFor,
  DEFAULT_LIMITS,
  type FeedLimits,
  HEADER_AUTHOR,
  HEADER_PARENT,
  MAGIC,
  SIG_BYTES,
} from './codec.ts'
export {
  activeEd25519,
  type Ed25519,
  type Ed25519Async,
  nobleEd25519,
  nodeEd25519,
  SODIUM_AFTER_USES,
  useEd25519,
  type VerifyItem,
  webCryptoEd25519,
} from './crypto.ts'
export { FeedError, type FeedErrorCode, PicoError } from './errors.ts'
export { Feed, feedFrom } from './feed.ts'
export {
  generateSecret,
  getPublicKey,
  KEY_BYTES,
  keyBytes,
  type PublicKey,
  type SecretKey,
  type SignPair,
  signPair,
} from './keys.ts'
export type { MergeCallback } from './merge-callback.ts'
export type { FeedFromOptions, FeedLike, FeedOptions } from './options.ts'
export { KEYLESS_CANDIDATES } from './signatures.ts'
export { sodiumEd25519 } from './sodium-ed25519.ts'
export {
  VARINT_MAX_BYTES,
  VARINT_MAX_VALUE,
  varintDecode,
  varintEncode,
  varintLength,
} from './varint.ts'
export { verifyBatch } from './verify-batch.ts'
export { type WorkerVerifier, workerVerifier } from './worker-verifier.ts'
