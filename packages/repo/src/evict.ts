import { type Block, bytesEqual, type PublicKey } from '@picostack/feed'
import { corrupt } from './check.ts'
import { type RepoContext, storedBlock, VIEW } from './context.ts'
import { RepoError } from './errors.ts'
import { authoredKey, blockKey, ownedKey, partialKey, placementKey } from './layout.ts'
import { resolveChain } from './read.ts'
import {
  type AuthoredEntry,
  type ChainRecord,
  decodeAuthored,
  encodeAuthored,
  genesisStored,
} from './records.ts'
import type { RegistryOp } from './registry.ts'
import { mapKey, type WriteSet } from './write-set.ts'

// Eviction: removing a chain's newest blocks (rollback, forks, a claimed chain replaced) or
// its oldest (evictPrefix), moving the chain and authored tags in the same write set.

/** Runs `evict` on a new write set, then writes it with `ops` in one atomic batch. */
export async function evictWith<T>(
  ctx: RepoContext,
  ops: RegistryOp[],
  evict: (ws: WriteSet) => Promise<T>,
): Promise<T> {
  const ws = await ctx.writeSet()
  const result = await evict(ws)
  ws.ops.push(...ops)
  await ctx.flush(ws)
  return result
}

/**
 * Adds to `ws` the eviction of a chain's blocks after `stopAt` (the whole chain without it).
 * @returns the evicted blocks, newest first
 */
export async function rollbackIn(
  ctx: RepoContext,
  ws: WriteSet,
  chainOrAuthor: Uint8Array | PublicKey,
  stopAt: Uint8Array | undefined,
): Promise<Block[]> {
  const chain = await resolveChain(ctx, chainOrAuthor, ws)
  let height = chain.firstHeight - 1
  if (stopAt) {
    const placement = await ctx.placement(stopAt)
    if (!placement || placement.chainNo !== chain.chainNo) {
      throw new RepoError('REPO_NOT_FOUND', 'stopAt is not a block of that chain')
    }
    height = placement.height
  }
  return evictAfter(ctx, ws, chain, height)
}

/** The key of `author`'s tag in `chain`: the owned key for its owner, else an authored key. */
function tagKey(chain: ChainRecord, author: Uint8Array): Uint8Array {
  return bytesEqual(author, chain.author)
    ? ownedKey(author, chain.chainNo)
    : authoredKey(author, chain.chainNo)
}

/** `author`'s newest block in `chain` as stored, or `undefined`. */
async function storedTag(
  ctx: RepoContext,
  chain: ChainRecord,
  author: Uint8Array,
): Promise<AuthoredEntry | undefined> {
  const value = await ctx.get(tagKey(chain, author))
  return value === undefined ? undefined : decodeAuthored(chain.chainNo, value)
}

/** Adds to `ws` that `author` has no block left in `chain` (its owner keeps an empty owned key). */
function dropTag(ws: WriteSet, chain: ChainRecord, author: Uint8Array): void {
  ws.ops.push(
    bytesEqual(author, chain.author)
      ? { type: 'put', key: ownedKey(author, chain.chainNo), value: new Uint8Array(0) }
      : { type: 'del', key: authoredKey(author, chain.chainNo) },
  )
}

/** Chains of one `evictPrefixes` call evicted side by side (their reads overlap). */
const EVICTIONS_AT_ONCE = 32

/**
 * Adds to `ws` the eviction of each chain's blocks up to its `lastId` (Repo.evictPrefixes).
 * The chains must be distinct (the caller checks): their evictions then read and touch
 * distinct keys, so a window of them runs side by side on the database's thread pool,
 * after one read of the window's chain records.
 * @returns the blocks evicted per chain, in the order given
 */
export async function evictPrefixesIn(
  ctx: RepoContext,
  ws: WriteSet,
  evictions: readonly { chainId: Uint8Array; lastId: Uint8Array }[],
): Promise<number[]> {
  const counts: number[] = []
  for (let at = 0; at < evictions.length; at += EVICTIONS_AT_ONCE) {
    const window = evictions.slice(at, at + EVICTIONS_AT_ONCE)
    await ctx.cacheChains(
      window.map(({ chainId }) => chainId),
      ws,
    )
    const evicted = await Promise.all(
      window.map(({ chainId, lastId }) => evictPrefixCount(ctx, ws, chainId, lastId)),
    )
    counts.push(...evicted)
  }
  return counts
}

/**
 * {@link evictPrefixIn}'s count of blocks. A chain that holds its genesis alone goes
 * without a read: that block's id, author and placement are its chain record's (a genesis
 * has no placement record and never starts a partial chain), and reading it would be one
 * more point read per chain (in a large LevelDB, each counts towards a seek compaction).
 */
async function evictPrefixCount(
  ctx: RepoContext,
  ws: WriteSet,
  chainId: Uint8Array,
  lastId: Uint8Array,
): Promise<number> {
  const chain = await ctx.chain(chainId, ws)
  if (chain && genesisStored(chain) && chain.headHeight === 1 && bytesEqual(lastId, chainId)) {
    ws.ops.push({ type: 'del', key: blockKey(chain.chainNo, 1) })
    ws.dropChain(chain)
    return 1
  }
  return (await evictPrefixIn(ctx, ws, chainId, lastId)).length
}

/** Adds to `ws` the eviction of `chainId`'s blocks up to `lastId` (oldest first). */
export async function evictPrefixIn(
  ctx: RepoContext,
  ws: WriteSet,
  chainId: Uint8Array,
  lastId: Uint8Array,
): Promise<Block[]> {
  const chain = await ctx.chain(chainId, ws)
  if (!chain) throw new RepoError('REPO_UNKNOWN_CHAIN', 'no such chain')
  const last = await ctx.placement(lastId, ws)
  if (!last || last.chainNo !== chain.chainNo) {
    throw new RepoError('REPO_NOT_FOUND', 'lastId is not a block of that chain')
  }
  if (last.height >= chain.headHeight) {
    return (await evictAfter(ctx, ws, chain, chain.firstHeight - 1)).reverse()
  }
  return evictBelow(ctx, ws, chain, last.height)
}

/** Adds to `ws` the removal of `chain`'s blocks up to `height` (below its head). */
async function evictBelow(
  ctx: RepoContext,
  ws: WriteSet,
  chain: ChainRecord,
  height: number,
): Promise<Block[]> {
  const { chainNo } = chain
  const { evicted, authors } = await evictHeights(ctx, ws, chainNo, [chain.firstHeight, height])
  // An author whose newest block here was evicted has no block left in this chain.
  for (const author of authors.values()) {
    const tag = await storedTag(ctx, chain, author)
    if (tag !== undefined && tag.height <= height) dropTag(ws, chain, author)
  }
  chain.firstHeight = height + 1
  chain.firstId = await ctx.idAt(chain, height + 1)
  ws.markChain(chain)
  return evicted
}

/** Block keys read in one `getMany` by {@link evictHeights} at most. */
const HEIGHTS_AT_ONCE = 1024

/**
 * Adds to `ws` the removal of the stored blocks of chain number `chainNo` at heights `low`
 * to `high` (both included), oldest first or `newestFirst`. Their keys are known, so they
 * are read by key, {@link HEIGHTS_AT_ONCE} at a time: point reads, which LevelDB's bloom
 * filters answer, where a range read seeks in every level (dearer as the database grows).
 * @returns the removed blocks and their authors (by hex key)
 */
async function evictHeights(
  ctx: RepoContext,
  ws: WriteSet,
  chainNo: number,
  [low, high]: [low: number, high: number],
  newestFirst = false,
): Promise<{ evicted: Block[]; authors: Map<string, Uint8Array> }> {
  const evicted: Block[] = []
  const authors = new Map<string, Uint8Array>()
  for (let done = 0; done <= high - low; done += HEIGHTS_AT_ONCE) {
    const keys: Uint8Array[] = []
    for (let i = done; i <= Math.min(high - low, done + HEIGHTS_AT_ONCE - 1); i++) {
      keys.push(blockKey(chainNo, newestFirst ? high - i : low + i))
    }
    const values = await ctx.getMany(keys)
    values.forEach((value, i) => {
      if (value !== undefined) evicted.push(evictBlock(ctx, ws, keys[i]!, value, authors))
    })
  }
  return { evicted, authors }
}

/** Adds the removal of one stored block (and its partial-start record) to `ws`. */
function evictBlock(
  ctx: RepoContext,
  ws: WriteSet,
  key: Uint8Array,
  value: Uint8Array,
  authors: Map<string, Uint8Array>,
): Block {
  const block = storedBlock(value)
  ws.ops.push({ type: 'del', key })
  // A genesis has no placement record (its chain record stands for it).
  if (!block.genesis) {
    ws.ops.push({ type: 'del', key: placementKey(block.sig) })
    ws.evicted.add(mapKey(block.sig))
  }
  if (ctx.partialStarts.has(mapKey(block.sig))) {
    ws.ops.push({ type: 'del', key: partialKey(block.sig) })
  }
  authors.set(mapKey(block.key!), block.key!)
  return block
}

/**
 * Adds to `ws` the removal of `chain`'s blocks above `height` (the whole chain when
 * `height` is below its first block) and moves the chain head and authored tags.
 * @returns the removed blocks, newest first
 */
export async function evictAfter(
  ctx: RepoContext,
  ws: WriteSet,
  chain: ChainRecord,
  height: number,
): Promise<Block[]> {
  const { chainNo } = chain
  const above: [number, number] = [Math.max(height + 1, chain.firstHeight), chain.headHeight]
  const { evicted, authors } = await evictHeights(ctx, ws, chainNo, above, true)
  if (height < chain.firstHeight) {
    ws.dropChain(chain)
    for (const author of authors.values()) {
      if (!bytesEqual(author, chain.author)) dropTag(ws, chain, author)
    }
    return evicted
  }
  chain.headHeight = height
  chain.headId = await ctx.idAt(chain, height)
  ws.markChain(chain)
  // Authors whose newest block in this chain was removed get their newest remaining one.
  const moved = new Map<string, Uint8Array>()
  for (const [key, author] of authors) {
    const tag = await storedTag(ctx, chain, author)
    if (tag === undefined || tag.height > height) moved.set(key, author)
  }
  if (moved.size > 0) {
    const below = {
      gte: blockKey(chainNo, chain.firstHeight),
      lte: blockKey(chainNo, height),
      reverse: true,
      ...VIEW,
    }
    for await (const value of ctx.db.values(below)) {
      const block = storedBlock(value)
      const author = moved.get(mapKey(block.key!))
      if (!author) continue
      const placement = await ctx.placement(block.sig)
      if (!placement) throw corrupt('a stored block has no placement')
      ws.ops.push({
        type: 'put',
        key: tagKey(chain, author),
        value: encodeAuthored(chainNo, placement),
      })
      moved.delete(mapKey(author))
      if (moved.size === 0) break
    }
  }
  for (const author of moved.values()) dropTag(ws, chain, author)
  return evicted
}
