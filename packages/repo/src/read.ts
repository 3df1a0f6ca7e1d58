import { type Block, type Feed, fromHex, type PublicKey, SIG_BYTES } from '@picostack/feed'
import { type ChainSummary, type ListChainsOptions, listChainRecords, summaryOf } from './chains.ts'
import { authorBytes, corrupt, invalid } from './check.ts'
import { type RepoContext, storedBlock, storedFeed, VIEW } from './context.ts'
import type { LevelDatabase } from './database.ts'
import { RepoError } from './errors.ts'
import {
  authoredPrefix,
  blockKey,
  chainKeys,
  chainNoOfTagKey,
  MAX_HEIGHT,
  NS,
  ownedPrefix,
  plain,
  prefixEnd,
} from './layout.ts'
import { type ChainRecord, decodeAuthored, decodeChain } from './records.ts'
import type { WriteSet } from './write-set.ts'

// The read path of Repo: arguments arrive checked (ids 64 B, authors as bytes).

/** Most blocks {@link loadFeed} reads by key (in one `getMany`) rather than with an iterator. */
const BY_KEY_BLOCKS = 16

/** The newest chain `author` owns (most recently started). */
export async function newestOwned(
  ctx: RepoContext,
  author: Uint8Array,
): Promise<ChainRecord | undefined> {
  const prefix = ownedPrefix(author)
  const keys = ctx.db.keys({
    gte: prefix,
    lt: prefixEnd(prefix),
    reverse: true,
    limit: 1,
    keyEncoding: 'view',
  })
  for await (const key of keys) return ctx.chain(await ctx.chainIdOf(chainNoOfTagKey(plain(key))))
  return undefined
}

/** A chain given by its id (64 B or 128 hex) or by its owner (headOf). */
export async function resolveChain(
  ctx: RepoContext,
  chainOrAuthor: Uint8Array | PublicKey,
  ws: WriteSet,
): Promise<ChainRecord> {
  let chain: ChainRecord | undefined
  if (chainOrAuthor instanceof Uint8Array && chainOrAuthor.length === SIG_BYTES) {
    chain = await ctx.chain(chainOrAuthor, ws)
  } else if (typeof chainOrAuthor === 'string' && chainOrAuthor.length === 2 * SIG_BYTES) {
    let chainId: Uint8Array
    try {
      chainId = fromHex(chainOrAuthor)
    } catch (cause) {
      throw invalid('chain id must be 128 hex characters', cause)
    }
    chain = await ctx.chain(chainId, ws)
  } else {
    const owned = await newestOwned(ctx, authorBytes(chainOrAuthor))
    chain = owned && (await ctx.chain(owned.chainId, ws))
  }
  if (!chain) throw new RepoError('REPO_UNKNOWN_CHAIN', 'no such chain')
  return chain
}

/** The stored block `id`, or `undefined`. */
export async function readBlock(ctx: RepoContext, id: Uint8Array): Promise<Block | undefined> {
  const placement = await ctx.placement(id)
  if (!placement) return undefined
  const value = await ctx.get(blockKey(placement.chainNo, placement.height))
  if (value === undefined) throw corrupt('a placement points at no block')
  return storedBlock(value)
}

/** The chain id (64 B) of stored block `id`, or `undefined`. */
export async function chainOf(ctx: RepoContext, id: Uint8Array): Promise<Uint8Array | undefined> {
  return ctx.chainOfBlock(id)
}

/**
 * The id (64 B) of `author`'s most recently written block still stored, or `undefined`:
 * the newest of their tags in the chains they own (`0x04`) and in others' (`0x05`), whose
 * id is read from the block it names.
 */
export async function latestOf(
  ctx: RepoContext,
  author: Uint8Array,
): Promise<Uint8Array | undefined> {
  let chainNo = 0
  let latest: { seq: number; height: number } | undefined
  for (const prefix of [ownedPrefix(author), authoredPrefix(author)]) {
    for await (const [key, value] of ctx.db.iterator({
      gte: prefix,
      lt: prefixEnd(prefix),
      ...VIEW,
    })) {
      const no = chainNoOfTagKey(plain(key))
      const entry = decodeAuthored(no, plain(value))
      if (entry && (!latest || entry.seq > latest.seq)) {
        latest = entry
        chainNo = no
      }
    }
  }
  return latest && ctx.idAt({ chainNo }, latest.height)
}

/**
 * The stored blocks from `headId` backwards in chain order: the newest `limit` (-1: all),
 * or until `stop` returns true. `undefined` when `headId` is not stored.
 */
export async function loadFeed(
  ctx: RepoContext,
  headId: Uint8Array,
  limit: number,
  stop: ((block: Block) => boolean) | undefined,
): Promise<Feed | undefined> {
  const placement = await ctx.placement(headId)
  if (!placement) return undefined
  const { chainNo, height } = placement
  // A run of known heights (the newest `limit`; all of a head at height 1: a one-block
  // chain, what a sync sends most) is read by key, without an iterator.
  const run = stop ? 0 : limit === -1 ? (height === 1 ? 1 : 0) : Math.min(limit, height)
  if (run > 0 && run <= BY_KEY_BLOCKS) {
    const keys: Uint8Array[] = []
    for (let h = height - run + 1; h <= height; h++) keys.push(blockKey(chainNo, h))
    return storedFeed(newestRun(await ctx.getMany(keys), 0, keys.length))
  }
  return rangeFeed(ctx.db, chainNo, height, limit, stop)
}

/**
 * The blocks of `values[from..to)` (a chain's block values by ascending height, the head
 * last) from the newest missing one on: the blocks stored below a head are contiguous.
 * @throws REPO_CORRUPT when the head (the last) is missing
 */
function newestRun(values: (Uint8Array | undefined)[], from: number, to: number): Block[] {
  let start = to
  while (start > from && values[start - 1] !== undefined) start--
  if (start === to) throw corrupt('a placement points at no block')
  const blocks: Block[] = new Array(to - start)
  for (let i = start; i < to; i++) blocks[i - start] = storedBlock(values[i]!)
  return blocks
}

/** The stored blocks of chain number `chainNo` from `height` down: the newest `limit` (-1: all), or until `stop`. */
async function rangeFeed(
  db: LevelDatabase,
  chainNo: number,
  height: number,
  limit: number,
  stop?: (block: Block) => boolean,
): Promise<Feed> {
  const blocks: Block[] = []
  const range = {
    gte: blockKey(chainNo, 0),
    lte: blockKey(chainNo, height),
    reverse: true,
    limit,
    ...VIEW,
  }
  for await (const value of db.values(range)) {
    const block = storedBlock(value)
    if (stop?.(block)) break
    blocks.push(block)
  }
  return storedFeed(blocks.reverse())
}

/** A chain and every block of it still stored, as `Repo.loadFeeds` reads them. */
export interface LoadedChain {
  /** The chain as its record says when read. */
  summary: ChainSummary
  /** Its stored blocks, first stored to head (`summary.length` of them). */
  feed: Feed
}

/** Most chains `Repo.loadFeeds` takes in one call (a page of `listChains`). */
export const MAX_LOAD_CHAINS = 65_536

/**
 * Every stored block of each chain of `chainIds` (checked 64 B ids, at most
 * {@link MAX_LOAD_CHAINS}), with its summary: the chain records in one `getMany`, the blocks
 * of every chain of at most 16 stored blocks in one more (a longer chain is read with an
 * iterator of its own). One entry per id, in order: `undefined` for a chain not held.
 * @throws REPO_CORRUPT when a chain record names a block that is not stored
 */
export async function loadFeeds(
  ctx: RepoContext,
  chainIds: readonly Uint8Array[],
): Promise<(LoadedChain | undefined)[]> {
  const { db } = ctx
  const records = await ctx.getMany(chainKeys(chainIds))
  const chains: (ChainRecord | undefined)[] = records.map((value, i) =>
    value === undefined ? undefined : decodeChain(chainIds[i]!.slice(), plain(value)),
  )
  const short = await shortFeeds((keys) => ctx.getMany(keys), chains, BY_KEY_BLOCKS)
  const out: (LoadedChain | undefined)[] = new Array(chains.length)
  for (let i = 0; i < chains.length; i++) {
    const chain = chains[i]
    if (!chain) continue
    const run = chain.headHeight - chain.firstHeight + 1
    const feed = short[i] ?? (await rangeFeed(db, chain.chainNo, chain.headHeight, run))
    out[i] = { summary: summaryOf(chain), feed }
  }
  return out
}

/**
 * The stored blocks of each of `chains` that has at most `maxBlocks` of them, read in one
 * `getMany`; `undefined` for the others (and for a missing chain).
 * @throws REPO_CORRUPT when a chain record names a block that is not stored
 */
async function shortFeeds(
  read: (keys: Uint8Array[]) => Promise<(Uint8Array | undefined)[]>,
  chains: readonly (ChainRecord | undefined)[],
  maxBlocks: number,
): Promise<(Feed | undefined)[]> {
  const blockKeys: Uint8Array[] = []
  for (const chain of chains) {
    if (!chain || chain.headHeight - chain.firstHeight >= maxBlocks) continue
    for (let h = chain.firstHeight; h <= chain.headHeight; h++) {
      blockKeys.push(blockKey(chain.chainNo, h))
    }
  }
  const values = blockKeys.length > 0 ? await read(blockKeys) : []
  const out: (Feed | undefined)[] = new Array(chains.length)
  let at = 0
  for (let i = 0; i < chains.length; i++) {
    const chain = chains[i]
    if (!chain) continue
    const run = chain.headHeight - chain.firstHeight + 1
    if (run > maxBlocks) continue
    out[i] = storedFeed(newestRun(values, at, at + run))
    at += run
  }
  return out
}

/** A chain of a page, as `Repo.listChainFeeds` reads it. */
export interface ListedChain {
  /** The chain as its record says when read. */
  summary: ChainSummary
  /**
   * Its stored blocks, first stored to head (`summary.length` of them), when there are at
   * most the page's `maxBlocks`; else `undefined` (load it with `Repo.loadFeed`).
   */
  feed: Feed | undefined
}

/**
 * One page of chains as {@link listChains} lists it, with the stored blocks of each chain
 * of at most `maxBlocks` (1..16) stored blocks: the page's records in one range read, those
 * blocks in one `getMany`.
 * @throws REPO_INVALID_INPUT for bad options or `maxBlocks`
 * @throws REPO_CORRUPT when a chain record names a block that is not stored
 */
export async function listChainFeeds(
  db: LevelDatabase,
  options: ListChainsOptions,
  maxBlocks: number,
): Promise<ListedChain[]> {
  if (!(Number.isInteger(maxBlocks) && maxBlocks >= 1 && maxBlocks <= BY_KEY_BLOCKS)) {
    throw invalid(`maxBlocks must be an integer from 1 to ${BY_KEY_BLOCKS}`)
  }
  const chains = await listChainRecords(db, options)
  const feeds = await shortFeeds((keys) => db.getMany(keys, VIEW), chains, maxBlocks)
  return chains.map((chain, i) => ({ summary: summaryOf(chain), feed: feeds[i] }))
}

/** The whole stored chain that holds block `anyId`, or `undefined`. */
export async function resolveFeed(ctx: RepoContext, anyId: Uint8Array): Promise<Feed | undefined> {
  const placement = await ctx.placement(anyId)
  if (!placement) return undefined
  const { chainNo } = placement
  const range = { gte: blockKey(chainNo, 0), lte: blockKey(chainNo, MAX_HEIGHT), ...VIEW }
  const blocks: Block[] = []
  for await (const value of ctx.db.values(range)) blocks.push(storedBlock(value))
  return storedFeed(blocks)
}

/** One summary per stored chain, ascending by chain id bytes. */
export async function listFeeds(ctx: RepoContext): Promise<ChainSummary[]> {
  const prefix = Uint8Array.of(NS.chain)
  const out: ChainSummary[] = []
  for await (const [key, value] of ctx.db.iterator({
    gte: prefix,
    lt: prefixEnd(prefix),
    ...VIEW,
  })) {
    out.push(summaryOf(decodeChain(plain(key).slice(1), plain(value))))
  }
  return out
}
