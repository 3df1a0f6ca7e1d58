import { Block, type Feed, type FeedLike, type PublicKey } from '@picostack/feed'
import { type ChainSummary, type ListChainsOptions, listChains, summaryOf } from './chains.ts'
import {
  authorBytes,
  checkEvictions,
  checkLimit,
  checkOps,
  checkPlacement,
  checkWrites,
  idBytes,
  invalid,
  toFeed,
} from './check.ts'
import { RepoContext } from './context.ts'
import type { LevelDatabase } from './database.ts'
import { RepoError, type RepoPartialWriteError } from './errors.ts'
import { evictPrefixesIn, evictPrefixIn, evictWith, rollbackIn } from './evict.ts'
import { MAX_DEPTH, registryPrefix } from './layout.ts'
import { Mutex } from './mutex.ts'
import { nibblePrefix } from './range-index.ts'
import type { ListedChain, LoadedChain } from './read.ts'
import * as read from './read.ts'
import { Registry, type RegistryHost, type RegistryOp } from './registry.ts'
import { registryHost } from './registry-host.ts'
import type { RangeFingerprint } from './trie-node.ts'
import { firstKeyless, verifyBlocks } from './verify.ts'
import {
  type BlockWrite,
  type MergeStrategy,
  type PlacementOptions,
  type RepoOptions,
  refuseAll,
  type WriteBlockOptions,
  type WriteBlocksOptions,
  writeRun,
} from './write-options.ts'
import { write } from './write-path.ts'

/**
 * A persistent block store on one abstract-level database (classic-level, browser-level,
 * memory-level...) opened with any encodings. Stores verified blocks in chains (chain id =
 * genesis sig, owner = genesis author), tags each chain's head, each author's newest
 * owned chain and latest block, and keeps a registry for the layers above. Every change is
 * one atomic batch; writes of one Repo instance are serialized. Open one Repo per database.
 */
export class Repo {
  /** The database (read and written with `'view'` encodings under the repo's key layout). */
  readonly db: LevelDatabase
  readonly #strategy: MergeStrategy
  readonly #mutex = new Mutex()
  readonly #root: Registry
  readonly #host: RegistryHost
  #closing: Promise<void> | undefined
  /** The database, index and state the read, write and eviction paths share. */
  readonly #ctx: RepoContext

  /**
   * @param db - any abstract-level database; its default encodings do not matter
   * @param options - `strategy`: the default {@link MergeStrategy} (default: refuse)
   * @throws REPO_INVALID_INPUT when `db` is not an abstract-level database
   */
  constructor(db: LevelDatabase, options: RepoOptions = {}) {
    if (!db || typeof db.batch !== 'function' || typeof db.iterator !== 'function') {
      throw invalid('db must be an abstract-level database')
    }
    this.db = db
    this.#ctx = new RepoContext(db)
    this.#strategy = options.strategy ?? refuseAll
    this.#host = registryHost(
      this.#ctx,
      () => this.#enter(),
      (ops) => this.batch(ops),
    )
    this.#root = new Registry(this.#host, registryPrefix(''))
  }

  /**
   * What every read does first: rejects after {@link Repo.close}; the first call checks the
   * database's key layout (one read), later ones only a flag.
   * @throws REPO_CLOSED after close
   * @throws REPO_LAYOUT for a database of another key layout
   */
  #enter(): Promise<void> | undefined {
    this.#assertOpen()
    return this.#ctx.layoutChecked ? undefined : this.#ctx.checkLayout()
  }

  /** A write's first step: its layout check runs in its turn under the write lock. */
  #assertOpen(): void {
    if (this.#closing) throw new RepoError('REPO_CLOSED', 'the repo is closed')
  }

  /**
   * Resolves once the layout is checked and the reconciliation index usable (built under
   * the write lock if needed).
   */
  async #indexReady(): Promise<void> {
    if (!this.#ctx.index.ready) await this.#mutex.run(() => this.#ctx.open())
  }

  /**
   * Writes the blocks of `feed` in chain order and returns how many were written (blocks
   * already held, and blocks of a prefix this repo evicted, are skipped and not counted).
   * Stops at the first block whose parent is unknown (see {@link PlacementOptions}) or that
   * the strategy refuses. Fast-forwards by the chain's owner are written; forks and appends
   * by another author only when `strategy` (default: the repo's) returns true; an accepted
   * fork replaces the chain's blocks after the fork point. Every block is written whole
   * in one atomic batch (consecutive blocks share batches of up to 1024).
   *
   * A `Feed` instance is trusted to be verified (Feed.from verifies; a feed built with
   * `verify: false` is the caller's risk); any other input is verified with `Feed.from`.
   * @throws REPO_UNVERIFIED when a block fails verification or lacks its author header (nothing written)
   * @throws REPO_INVALID_INPUT for input that is not a feed or malformed options
   * @throws REPO_PARTIAL_WRITE ({@link RepoPartialWriteError}) when a batch (or the strategy)
   *   fails after an earlier batch of this call was written: its `written` blocks stay
   *   written; any other error means nothing of the call was written
   * @throws REPO_CLOSED after {@link Repo.close}
   * @throws REPO_LAYOUT for a database of another key layout
   */
  async merge(
    feed: FeedLike,
    strategy?: MergeStrategy,
    options: PlacementOptions = {},
  ): Promise<number> {
    this.#assertOpen()
    checkPlacement(options)
    const blocks = toFeed(feed).blocks
    for (const block of blocks) {
      if (!block.key) throw new RepoError('REPO_UNVERIFIED', 'a block has no author header')
    }
    const run = writeRun(options, strategy ?? this.#strategy, this)
    return this.#mutex.run(() => write(this.#ctx, blocks, undefined, run))
  }

  /**
   * Writes one block with its index and tag updates and `ops`, in one atomic batch. Placement
   * rules as in {@link Repo.merge}; the block's signature is verified here.
   * @returns true when written; false when refused (unknown parent, strategy said no) or
   *   already held, in which case `ops` are not written either
   * @throws REPO_UNVERIFIED when the block fails verification or lacks its author header
   * @throws REPO_INVALID_INPUT for a non-block, malformed ops or options
   * @throws REPO_PARTIAL_WRITE as {@link Repo.writeBlocks} (`written` 0: only the eviction
   *   of the claimed partial chain a genesis replaces was written)
   * @throws REPO_CLOSED after {@link Repo.close}
   * @throws REPO_LAYOUT for a database of another key layout
   */
  async writeBlock(block: Block, options: WriteBlockOptions = {}): Promise<boolean> {
    this.#assertOpen()
    if (!(block instanceof Block)) throw invalid('writeBlock expects a Block')
    const { ops, ...rest } = options
    return (await this.writeBlocks([{ block, ops }], rest)) === 1
  }

  /**
   * Writes consecutive blocks of one chain, each with its registry `ops`, in chain order:
   * the blocks and their ops share atomic batches (of up to 1024 blocks; a block and its
   * ops are always whole inside one), so a run costs one database write, not one per block.
   * Placement rules as in {@link Repo.merge}, except that the run stops at the first block
   * not written: already held, parent unknown, or refused by the strategy. That block's ops
   * and everything after it are not written. Signatures are verified first (in parallel
   * where the platform can), unless `verified` vouches for them.
   * @returns how many writes, from the first, were written
   * @throws REPO_UNVERIFIED when a block fails verification or lacks its author header
   *   (nothing is written)
   * @throws REPO_INVALID_INPUT for a non-block, malformed ops or options
   * @throws REPO_PARTIAL_WRITE ({@link RepoPartialWriteError}) when a batch (or the strategy)
   *   fails after an earlier batch of this call was written: writes `0..written-1` stay
   *   written with their ops, nothing after them is; any other error (a database failure
   *   in the first batch, too) means nothing of the call was written
   * @throws REPO_CLOSED after {@link Repo.close}
   * @throws REPO_LAYOUT for a database of another key layout
   */
  async writeBlocks(
    writes: readonly BlockWrite[],
    options: WriteBlocksOptions = {},
  ): Promise<number> {
    this.#assertOpen()
    if (!Array.isArray(writes)) throw invalid('writeBlocks expects an array of { block, ops? }')
    checkPlacement(options)
    const { blocks, ops } = checkWrites(writes)
    const bad = options.verified === true ? firstKeyless(blocks) : await verifyBlocks(blocks)
    if (bad < blocks.length) {
      throw new RepoError('REPO_UNVERIFIED', `block ${bad} does not verify under its author key`)
    }
    const run = writeRun(options, options.strategy ?? this.#strategy, this)
    return this.#mutex.run(() => write(this.#ctx, blocks, ops, run))
  }

  /**
   * Writes registry operations in one atomic batch (no block).
   * @throws REPO_INVALID_INPUT for ops not built by a registry
   * @throws REPO_CLOSED after {@link Repo.close}
   * @throws REPO_LAYOUT for a database of another key layout
   */
  async batch(ops: RegistryOp[]): Promise<void> {
    this.#assertOpen()
    const checked = checkOps(ops)
    await this.#mutex.run(async () => {
      await this.#ctx.checkLayout()
      if (checked.length > 0) await this.#ctx.batch(checked)
    })
  }

  /**
   * The stored block `id` (64 B), or `undefined`. Stored blocks are not verified again.
   * @throws REPO_INVALID_INPUT when `id` is not 64 bytes
   * @throws REPO_CLOSED after {@link Repo.close}
   * @throws REPO_LAYOUT for a database of another key layout
   */
  async readBlock(id: Uint8Array): Promise<Block | undefined> {
    await this.#enter()
    return read.readBlock(this.#ctx, idBytes(id, 'id'))
  }

  /**
   * True when block `id` (64 B) is stored (reads its placement and, for a genesis, its
   * chain record, in one read).
   * @throws REPO_INVALID_INPUT when `id` is not 64 bytes
   * @throws REPO_CLOSED after {@link Repo.close}
   * @throws REPO_LAYOUT for a database of another key layout
   */
  async hasBlock(id: Uint8Array): Promise<boolean> {
    await this.#enter()
    return (await this.#ctx.placement(idBytes(id, 'id'))) !== undefined
  }

  /**
   * The chain id (64 B) of stored block `id`, or `undefined`.
   * @throws REPO_INVALID_INPUT when `id` is not 64 bytes
   * @throws REPO_CLOSED after {@link Repo.close}
   * @throws REPO_LAYOUT for a database of another key layout
   */
  async chainOf(id: Uint8Array): Promise<Uint8Array | undefined> {
    await this.#enter()
    return read.chainOf(this.#ctx, idBytes(id, 'id'))
  }

  /**
   * Head id (64 B) of the newest chain `author` owns (most recently started in this repo),
   * or `undefined` when they own none.
   * @throws REPO_INVALID_INPUT for a malformed key
   * @throws REPO_CLOSED after {@link Repo.close}
   * @throws REPO_LAYOUT for a database of another key layout
   */
  async headOf(author: PublicKey): Promise<Uint8Array | undefined> {
    await this.#enter()
    return (await read.newestOwned(this.#ctx, authorBytes(author)))?.headId
  }

  /**
   * Id (64 B) of the most recently written block by `author` that is still stored, in any
   * chain, or `undefined`.
   * @throws REPO_INVALID_INPUT for a malformed key
   * @throws REPO_CLOSED after {@link Repo.close}
   * @throws REPO_LAYOUT for a database of another key layout
   */
  async latestOf(author: PublicKey): Promise<Uint8Array | undefined> {
    await this.#enter()
    return read.latestOf(this.#ctx, authorBytes(author))
  }

  /**
   * The newest chain `author` owns, from its head back (`limit` newest blocks; default all),
   * or `undefined` when they own none.
   * @throws REPO_INVALID_INPUT for a malformed key or limit
   * @throws REPO_CLOSED after {@link Repo.close}
   * @throws REPO_LAYOUT for a database of another key layout
   */
  async loadHead(author: PublicKey, limit?: number): Promise<Feed | undefined> {
    const head = await this.headOf(author)
    return head && this.loadFeed(head, limit)
  }

  /**
   * The stored blocks from block `headId` backwards, as a feed in chain order: all of them
   * back to the first stored block, the newest `limit`, or until `stop(block)` returns true
   * (blocks are offered newest first; the one it returns true for is not included).
   * `undefined` when `headId` is not stored.
   * @throws REPO_INVALID_INPUT when `headId` is not 64 bytes or `limit` is not a positive integer
   * @throws REPO_CLOSED after {@link Repo.close}
   * @throws REPO_LAYOUT for a database of another key layout
   */
  async loadFeed(
    headId: Uint8Array,
    limitOrStop?: number | ((block: Block) => boolean),
  ): Promise<Feed | undefined> {
    await this.#enter()
    const limit = checkLimit(limitOrStop)
    const headBytes = idBytes(headId, 'headId')
    const stop = typeof limitOrStop === 'function' ? limitOrStop : undefined
    return read.loadFeed(this.#ctx, headBytes, limit, stop)
  }

  /**
   * The whole stored chain that holds block `anyId`, first stored block to head, or
   * `undefined` when `anyId` is not stored.
   * @throws REPO_INVALID_INPUT when `anyId` is not 64 bytes
   * @throws REPO_CLOSED after {@link Repo.close}
   * @throws REPO_LAYOUT for a database of another key layout
   */
  async resolveFeed(anyId: Uint8Array): Promise<Feed | undefined> {
    await this.#enter()
    return read.resolveFeed(this.#ctx, idBytes(anyId, 'id'))
  }

  /**
   * One summary per stored chain, ascending by chain id bytes (an array).
   * @throws REPO_CLOSED after {@link Repo.close}
   * @throws REPO_LAYOUT for a database of another key layout
   */
  async listFeeds(): Promise<ChainSummary[]> {
    await this.#enter()
    return read.listFeeds(this.#ctx)
  }

  /**
   * Head ids (64 B) of every stored chain, in {@link Repo.listFeeds} order.
   * @throws REPO_CLOSED after {@link Repo.close}
   * @throws REPO_LAYOUT for a database of another key layout
   */
  async listHeads(): Promise<Uint8Array[]> {
    return (await this.listFeeds()).map((s) => s.headId)
  }

  /**
   * What the repo holds of chain `chainId` (64 B), or `undefined`.
   * @throws REPO_INVALID_INPUT when `chainId` is not 64 bytes
   * @throws REPO_CLOSED after {@link Repo.close}
   * @throws REPO_LAYOUT for a database of another key layout
   */
  async summary(chainId: Uint8Array): Promise<ChainSummary | undefined> {
    await this.#enter()
    const chain = await this.#ctx.chain(idBytes(chainId, 'chainId'))
    return chain && summaryOf(chain)
  }

  /**
   * {@link Repo.summary} of many chains (64 B ids) in one read, in the order given
   * (`undefined` where none). The records read are kept for the next write that looks them
   * up (an eviction: `evictPrefixes` then reads them no more), unless a batch ran meanwhile.
   * @throws REPO_INVALID_INPUT when an id is not 64 bytes
   * @throws REPO_CLOSED after {@link Repo.close}
   * @throws REPO_LAYOUT for a database of another key layout
   */
  async summaries(chainIds: readonly Uint8Array[]): Promise<(ChainSummary | undefined)[]> {
    await this.#enter()
    const chains = await this.#ctx.chainsAhead(chainIds.map((id) => idBytes(id, 'chainId')))
    return chains.map((chain) => chain && summaryOf(chain))
  }

  /**
   * Every stored block of each chain of `chainIds` (64 B ids, at most 65,536: a page of
   * {@link Repo.listChains}), with its summary as read: what a sync sends a peer lacking a
   * page of chains. One entry per id, in order, `undefined` for a chain not held; each
   * `feed` holds the chain's `summary.length` stored blocks, first stored to head. Reads the
   * chain records in one `getMany` and the blocks of every chain of at most 16 stored
   * blocks in one more; a longer chain is read with a range read of its own.
   * @throws REPO_INVALID_INPUT when `chainIds` is not an array, holds an id that is not
   *   64 bytes, or more than 65,536 of them
   * @throws REPO_CORRUPT when a chain record names a block that is not stored
   * @throws REPO_CLOSED after {@link Repo.close}
   * @throws REPO_LAYOUT for a database of another key layout
   */
  async loadFeeds(chainIds: readonly Uint8Array[]): Promise<(LoadedChain | undefined)[]> {
    await this.#enter()
    if (!Array.isArray(chainIds) || chainIds.length > read.MAX_LOAD_CHAINS) {
      throw invalid(`loadFeeds takes an array of at most ${read.MAX_LOAD_CHAINS} chain ids`)
    }
    for (const id of chainIds) idBytes(id, 'chainId')
    return read.loadFeeds(this.#ctx, chainIds)
  }

  /**
   * One page of chains as {@link Repo.listChains} lists it (same options), each with its
   * stored blocks when it has at most `maxBlocks` (1..16) of them: what a sync sends a peer
   * lacking a range of chains, in two reads (the page's chain records, then those blocks
   * in one `getMany`) instead of three ({@link Repo.listChains} then
   * {@link Repo.loadFeeds}, which reads the records again). A longer chain comes with
   * `feed: undefined`: load it with {@link Repo.loadFeed}.
   * @throws REPO_INVALID_INPUT for options {@link Repo.listChains} refuses, or a
   *   `maxBlocks` that is not an integer from 1 to 16
   * @throws REPO_CORRUPT when a chain record names a block that is not stored
   * @throws REPO_CLOSED after {@link Repo.close}
   * @throws REPO_LAYOUT for a database of another key layout
   */
  async listChainFeeds(options: ListChainsOptions & { maxBlocks: number }): Promise<ListedChain[]> {
    await this.#enter()
    return read.listChainFeeds(this.db, options, options?.maxBlocks)
  }

  /**
   * One page of chains in ascending chain id order, never more than `limit`: those whose id
   * starts with `prefix` (nibbles), after chain id `after`, only proven ones with `proven`.
   * Page on by passing the last chain id of a page as `after`. Reads `limit` chain records,
   * plus, with `proven`, the claimed chains it passes over.
   * @throws REPO_INVALID_INPUT for a prefix with a value above 15 or deeper than 128, an
   *   `after` that is not 64 bytes, or a `limit` outside 1..65,536
   * @throws REPO_CLOSED after {@link Repo.close}
   * @throws REPO_LAYOUT for a database of another key layout
   */
  async listChains(options: ListChainsOptions): Promise<ChainSummary[]> {
    await this.#enter()
    return listChains(this.db, options)
  }

  /**
   * count + fingerprint of the items (proven chains) whose id starts with `prefix` (nibble
   * values, depth 0..128), as the reconciliation index defines them (README.md,
   * "Reconciliation index"). Never scans the range: one stored node, or for a range of at
   * most one item its chain records.
   * @throws REPO_INVALID_INPUT for a prefix with a value above 15 or deeper than 128
   * @throws REPO_CORRUPT when the stored index contradicts itself
   * @throws REPO_CLOSED after {@link Repo.close}
   * @throws REPO_LAYOUT for a database of another key layout
   */
  async rangeFingerprint(prefix: Uint8Array): Promise<RangeFingerprint> {
    await this.#enter()
    nibblePrefix(prefix, MAX_DEPTH)
    await this.#indexReady()
    return this.#ctx.index.fingerprint(prefix)
  }

  /**
   * The 16 child ranges `prefix | 0` .. `prefix | 15` of `prefix` (nibble values, depth
   * 0..127), in order: one stored node read (or, for a range of at most one item, its chain
   * records).
   * @throws REPO_INVALID_INPUT for a prefix with a value above 15 or deeper than 127
   * @throws REPO_CORRUPT when the stored index contradicts itself
   * @throws REPO_CLOSED after {@link Repo.close}
   * @throws REPO_LAYOUT for a database of another key layout
   */
  async rangeChildren(prefix: Uint8Array): Promise<RangeFingerprint[]> {
    await this.#enter()
    nibblePrefix(prefix, MAX_DEPTH - 1)
    await this.#indexReady()
    return this.#ctx.index.children(prefix)
  }

  /**
   * Evicts a chain's blocks after `stopAt` (exclusive), or the whole chain without it, and
   * moves every tag (chain head, owner's newest chain, authors' latest blocks) in the same
   * atomic batch as `ops`. The chain is a chain id (64 B or 128 hex characters) or an
   * author's public key (their newest owned chain, as {@link Repo.headOf}).
   * @returns the evicted blocks, newest first
   * @throws REPO_UNKNOWN_CHAIN when there is no such chain
   * @throws REPO_NOT_FOUND when `stopAt` is not a stored block of that chain
   * @throws REPO_INVALID_INPUT for malformed arguments
   * @throws REPO_CLOSED after {@link Repo.close}
   * @throws REPO_LAYOUT for a database of another key layout
   */
  async rollback(
    chainOrAuthor: Uint8Array | PublicKey,
    stopAt?: Uint8Array,
    options: { ops?: RegistryOp[] } = {},
  ): Promise<Block[]> {
    this.#assertOpen()
    if (stopAt !== undefined) idBytes(stopAt, 'stopAt')
    const ops = checkOps(options.ops)
    return this.#mutex.run(() =>
      evictWith(this.#ctx, ops, (ws) => rollbackIn(this.#ctx, ws, chainOrAuthor, stopAt)),
    )
  }

  /**
   * Evicts the oldest blocks of chain `chainId` up to and including `lastId`, leaving a
   * partial chain that keeps its id and height; through the head, the chain is removed.
   * Tags move and `ops` are written in the same atomic batch.
   * @returns the evicted blocks, oldest first
   * @throws REPO_UNKNOWN_CHAIN when there is no such chain
   * @throws REPO_NOT_FOUND when `lastId` is not a stored block of that chain
   * @throws REPO_INVALID_INPUT for malformed arguments
   * @throws REPO_CLOSED after {@link Repo.close}
   * @throws REPO_LAYOUT for a database of another key layout
   */
  async evictPrefix(
    chainId: Uint8Array,
    lastId: Uint8Array,
    options: { ops?: RegistryOp[] } = {},
  ): Promise<Block[]> {
    this.#assertOpen()
    idBytes(chainId, 'chainId')
    idBytes(lastId, 'lastId')
    const ops = checkOps(options.ops)
    return this.#mutex.run(() =>
      evictWith(this.#ctx, ops, (ws) => evictPrefixIn(this.#ctx, ws, chainId, lastId)),
    )
  }

  /**
   * {@link Repo.evictPrefix} of many chains at once: each `{ chainId, lastId }` (64 B each)
   * evicts that chain's oldest blocks up to and including `lastId` (through its head, the
   * chain goes), and all of it, the tags moved and `ops` are one atomic batch: either every
   * eviction is written or none. Holds the evicted blocks and a few ops per block in memory
   * until that batch is written.
   * @returns how many blocks each eviction removed, in the order given
   * @throws REPO_UNKNOWN_CHAIN when a chain is not stored (nothing is written)
   * @throws REPO_NOT_FOUND when a `lastId` is not a stored block of its chain (nothing is written)
   * @throws REPO_INVALID_INPUT for malformed arguments, or a chain named twice
   * @throws REPO_CLOSED after {@link Repo.close}
   * @throws REPO_LAYOUT for a database of another key layout
   */
  async evictPrefixes(
    evictions: readonly { chainId: Uint8Array; lastId: Uint8Array }[],
    options: { ops?: RegistryOp[] } = {},
  ): Promise<number[]> {
    this.#assertOpen()
    checkEvictions(evictions)
    const ops = checkOps(options.ops)
    return this.#mutex.run(() =>
      evictWith(this.#ctx, ops, (ws) => evictPrefixesIn(this.#ctx, ws, evictions)),
    )
  }

  /**
   * The value stored under `key` in the root registry, or `undefined`.
   * @throws REPO_INVALID_INPUT when `key` is neither a string nor bytes
   * @throws REPO_CLOSED after {@link Repo.close}
   * @throws REPO_LAYOUT for a database of another key layout
   */
  async readReg(key: Uint8Array | string): Promise<Uint8Array | undefined> {
    return this.#root.get(key)
  }

  /**
   * Stores `value` under `key` in the root registry.
   * @throws REPO_INVALID_INPUT when `key` or `value` has the wrong type
   * @throws REPO_CLOSED after {@link Repo.close}
   * @throws REPO_LAYOUT for a database of another key layout
   */
  async writeReg(key: Uint8Array | string, value: Uint8Array): Promise<void> {
    return this.#root.put(key, value)
  }

  /**
   * The registry named `name`: an isolated key space (the root registry of
   * {@link Repo.readReg} is `registry('')`).
   * @throws REPO_INVALID_INPUT when `name` is not a string
   */
  registry(name: string): Registry {
    if (typeof name !== 'string') throw invalid('registry name must be a string')
    return new Registry(this.#host, registryPrefix(name))
  }

  /**
   * Waits for writes already queued, saves the reconciliation index's top when it changed
   * (what the next open's first write would otherwise derive from every chain record, in a
   * repo of fewer than ~25,000 chains), then closes the database. Idempotent; every later
   * call on this repo rejects with REPO_CLOSED.
   */
  close(): Promise<void> {
    this.#closing ??= this.#mutex.idle().then(async () => {
      // Not saved (a failed write): the next open derives the top from the chain records.
      await this.#ctx.index.saveTop().catch(() => undefined)
      await this.db.close()
    })
    return this.#closing
  }
}
