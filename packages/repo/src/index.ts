export type { ChainSummary, ListChainsOptions } from './chains.ts'
export type {
  EncodedBatchOp,
  LevelDatabase,
  ViewBatchOp,
  ViewEncodings,
  ViewRange,
} from './database.ts'
export { RepoError, type RepoErrorCode, RepoPartialWriteError } from './errors.ts'
export { sha256 } from './fingerprint.ts'
export type { ListedChain, LoadedChain } from './read.ts'
export {
  Registry,
  type RegistryHost,
  type RegistryOp,
  type RegistryRange,
} from './registry.ts'
export { Repo } from './repo.ts'
export type { RangeFingerprint } from './trie-node.ts'
export { verifyBlocks } from './verify.ts'
export type {
  BlockWrite,
  MergeStrategy,
  PlacementOptions,
  RepoOptions,
  WriteBlockOptions,
  WriteBlocksOptions,
} from './write-options.ts'
