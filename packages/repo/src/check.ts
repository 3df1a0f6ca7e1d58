import {
  Block,
  Feed,
  FeedError,
  type FeedLike,
  keyBytes,
  type PublicKey,
  SIG_BYTES,
} from '@picostack/feed'
import { RepoError } from './errors.ts'
import { MAX_HEIGHT, NS } from './layout.ts'
import type { RegistryOp } from './registry.ts'
import { mapKey } from './write-set.ts'

// Argument checks of the Repo's methods: each throws a typed RepoError.

export function invalid(message: string, cause?: unknown): RepoError {
  return new RepoError('REPO_INVALID_INPUT', message, cause === undefined ? undefined : { cause })
}

export function corrupt(message: string, cause?: unknown): RepoError {
  return new RepoError('REPO_CORRUPT', message, cause === undefined ? undefined : { cause })
}

export function idBytes(id: unknown, what: string): Uint8Array {
  if (!(id instanceof Uint8Array) || id.length !== SIG_BYTES) {
    throw invalid(`${what} must be a ${SIG_BYTES}-byte Uint8Array`)
  }
  return id
}

export function authorBytes(author: PublicKey): Uint8Array {
  try {
    return keyBytes(author, 'author')
  } catch (cause) {
    throw invalid('author must be 32 bytes or 64 hex characters', cause)
  }
}

export function checkOps(ops: unknown): RegistryOp[] {
  if (ops === undefined) return []
  if (!Array.isArray(ops)) throw invalid('ops must be an array of registry operations')
  for (const op of ops as RegistryOp[]) {
    const key = op?.key
    if (!(key instanceof Uint8Array) || key.length < 2 || key[0] !== NS.registry) {
      throw invalid('ops must be built by registry.putOp / registry.delOp')
    }
    if (op.type === 'put' ? !(op.value instanceof Uint8Array) : op.type !== 'del') {
      throw invalid('a registry op is { type: "put", key, value } or { type: "del", key }')
    }
  }
  return ops as RegistryOp[]
}

export function checkPlacement(options: { chainId?: Uint8Array; height?: number }): void {
  if (options.chainId !== undefined) idBytes(options.chainId, 'chainId')
  const { height } = options
  if (height !== undefined && !(Number.isInteger(height) && height >= 1 && height <= MAX_HEIGHT)) {
    throw invalid(`height must be an integer from 1 to ${MAX_HEIGHT}`)
  }
}

/**
 * `input` as a verified feed (a Feed instance is used as is).
 * @throws REPO_UNVERIFIED when a signature does not verify
 * @throws REPO_INVALID_INPUT when it does not decode or link
 */
export function toFeed(input: FeedLike): Feed {
  if (input instanceof Feed) return input
  try {
    return Feed.from(input)
  } catch (cause) {
    if (cause instanceof FeedError && cause.code === 'FEED_SIGNATURE') {
      throw new RepoError('REPO_UNVERIFIED', 'a block fails verification', { cause })
    }
    throw invalid('not a feed', cause)
  }
}

/** The blocks and per-block ops of the array `writes` (Repo.writeBlocks), checked. */
export function checkWrites(writes: readonly { block: Block; ops?: RegistryOp[] }[]): {
  blocks: Block[]
  ops: RegistryOp[][]
} {
  const blocks: Block[] = []
  const ops: RegistryOp[][] = []
  for (const write of writes) {
    if (!(write?.block instanceof Block)) throw invalid('writeBlocks expects { block: Block }')
    blocks.push(write.block)
    ops.push(checkOps(write.ops))
  }
  return { blocks, ops }
}

/** Checks `evictions` of Repo.evictPrefixes: ids of 64 B, no chain named twice. */
export function checkEvictions(evictions: unknown): void {
  if (!Array.isArray(evictions)) throw invalid('evictPrefixes expects an array')
  const chains = new Set<string>()
  for (const eviction of evictions as { chainId: Uint8Array; lastId: Uint8Array }[]) {
    chains.add(mapKey(idBytes(eviction?.chainId, 'chainId')))
    idBytes(eviction.lastId, 'lastId')
  }
  if (chains.size !== evictions.length) throw invalid('a chain is named twice')
}

/** The `limit` of Repo.loadFeed's `limitOrStop` (-1: none, a stop function or nothing). */
export function checkLimit(limitOrStop: unknown): number {
  if (typeof limitOrStop === 'number') {
    if (!(Number.isInteger(limitOrStop) && limitOrStop >= 1)) {
      throw invalid('limit must be a positive integer')
    }
    return limitOrStop
  }
  if (limitOrStop !== undefined && typeof limitOrStop !== 'function') {
    throw invalid('loadFeed takes a limit or a stop function')
  }
  return -1
}
