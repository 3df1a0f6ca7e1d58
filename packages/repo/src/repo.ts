import {
  Block,
  bytesEqual,
  DEFAULT_LIMITS,
  Feed,
  FeedError,
  type FeedLike,
  fromHex,
  keyBytes,
  type PublicKey,
  SIG_BYTES,
} from '@picostack/feed'
import { type ChainSummary, type ListChainsOptions, listChains, summaryOf } from './chains.ts'
import type { LevelDatabase } from './database.ts'
import { RepoError, RepoPartialWriteError } from './errors.ts'
import {
  type AuthoredEntry,
  authoredKey,
  authoredPrefix,
  blockKey,
  type ChainRecord,
  chainIdOfOwnedKey,
  chainKey,
  chainNoKey,
  decodeAuthored,
  decodeChain,
  decodePlacement,
  decodeU64,
  encodeAuthored,
  MAX_DEPTH,
  MAX_HEIGHT,
  NS,
  ownedPrefix,
  type Placement,
  partialKey,
  placementKey,
  plain,
  prefixEnd,
  registryPrefix,
} from './layout.ts'
import { Mutex } from './mutex.ts'
import { nibblePrefix, RangeIndex } from './range-index.ts'
import { Registry, type RegistryHost, type RegistryOp } from './registry.ts'
import type { RangeFingerprint } from './trie-node.ts'
import { firstKeyless, verifyBlocks } from './verify.ts'
import { mapKey, SEQ_KEY, WriteSet } from './write-set.ts'

/** Per-operation encodings: the repo reads and writes bytes whatever the db's defaults. */
const VIEW = { keyEncoding: 'view', valueEncoding: 'view' } as const
/** Blocks are read back with the largest body the feed format allows. */
const READ_LIMITS = { ...DEFAULT_LIMITS, maxBodyBytes: 256 * 1024 * 1024 - 100 }
/** Blocks per write batch during a merge (each block is whole inside one batch). */
const GROUP_BLOCKS = 1024
/** Chain ids remembered by chain number (the cache starts over when full). */
const CHAIN_ID_CACHE = 4096

/**
 * Decides whether a fork, or an append by someone other than the chain's owner, may be
 * written. Called with the repo holding everything written before `block`. It may read the
 * repo but must not write to it (the write would wait for the merge that called it).
 */
export type MergeStrategy = (block: Block, repo: Repo) => boolean | Promise<boolean>

/** Options of {@link Repo.merge} and {@link Repo.writeBlock} for partial chains. */
export interface PlacementOptions {
  /**
   * Chain id of a partial chain: a block whose parent is unknown starts it, but only while
   * the repo holds nothing of that chain. Without it, an unknown parent stops the write.
   */
  chainId?: Uint8Array
  /** Height of that first block (genesis = 1); without it the chain's height is unknown. */
  height?: number
}

/** Options of {@link Repo.writeBlock}. */
export interface WriteBlockOptions extends PlacementOptions {
  /** Overrides the repo's strategy for this block. */
  strategy?: MergeStrategy
  /** Registry operations written in the same atomic batch as the block (only if it is written). */
  ops?: RegistryOp[]
}

/** One block for {@link Repo.writeBlocks} and the registry ops written with it. */
export interface BlockWrite {
  /** The block (its chain's blocks in order, one write after the other). */
  block: Block
  /** Registry operations written in the same atomic batch as the block (only if it is written). */
  ops?: RegistryOp[]
}

/** Options of {@link Repo.writeBlocks}. */
export interface WriteBlocksOptions extends PlacementOptions {
  /** Overrides the repo's strategy for these blocks. */
  strategy?: MergeStrategy
  /**
   * The caller already verified every block's signature (e.g. with `Feed.fromAsync` or
   * {@link verifyBlocks}): the repo does not check them again. Blocks must still carry
   * their author header. Never set it for bytes you did not verify yourself.
   */
  verified?: boolean
}

/** Options of {@link Repo} */
export interface RepoOptions {
  /** Default strategy for forks and foreign appends; default: refuse them all. */
  strategy?: MergeStrategy
}

type Step = 'written' | 'held' | 'evicted' | 'stop'

interface StepContext extends PlacementOptions {
  strategy: MergeStrategy
  /** Ids of blocks found to lie in an evicted prefix (their children are skipped too). */
  evicted: Set<string>
}

const refuseAll: MergeStrategy = () => false

function invalid(message: string, cause?: unknown): RepoError {
  return new RepoError('REPO_INVALID_INPUT', message, cause === undefined ? undefined : { cause })
}

function corrupt(message: string, cause?: unknown): RepoError {
  return new RepoError('REPO_CORRUPT', message, cause === undefined ? undefined : { cause })
}

function idBytes(id: unknown, what: string): Uint8Array {
  if (!(id instanceof Uint8Array) || id.length !== SIG_BYTES) {
    throw invalid(`${what} must be a ${SIG_BYTES}-byte Uint8Array`)
  }
  return id
}

function authorBytes(author: PublicKey): Uint8Array {
  try {
    return keyBytes(author, 'author')
  } catch (cause) {
    throw invalid('author must be 32 bytes or 64 hex characters', cause)
  }
}

/** A stored block (trusted: not verified again). */
function storedBlock(value: Uint8Array): Block {
  try {
    return new Block(plain(value), 0, READ_LIMITS)
  } catch (cause) {
    throw corrupt('stored block does not decode', cause)
  }
}

/** A feed of stored blocks in chain order (links checked, signatures trusted). */
function storedFeed(blocks: Block[]): Feed {
  let bytes = 4
  for (const block of blocks) bytes += block.blockSize
  try {
    return Feed.from(blocks, {
      verify: false,
      limits: { ...READ_LIMITS, maxFeedBytes: Math.max(bytes, DEFAULT_LIMITS.maxFeedBytes) },
    })
  } catch (cause) {
    throw corrupt('stored blocks do not link', cause)
  }
}

function checkOps(ops: unknown): RegistryOp[] {
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

function checkPlacement(options: PlacementOptions): void {
  if (options.chainId !== undefined) idBytes(options.chainId, 'chainId')
  const { height } = options
  if (height !== undefined && !(Number.isInteger(height) && height >= 1 && height <= MAX_HEIGHT)) {
    throw invalid(`height must be an integer from 1 to ${MAX_HEIGHT}`)
  }
}

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
  #seq: number | undefined
  /**
   * Ids of blocks that started partial chains (loaded with the write sequence; may hold
   * ids already evicted). Only such a block can be held while its parent is a chain head.
   */
  #partialStarts = new Set<string>()
  /** Chain ids by chain number, as read (a number never names another chain). */
  #chainIds = new Map<number, Uint8Array>()
  /** The reconciliation index (its nodes are written in the batches of {@link Repo.#flush}). */
  readonly #index: RangeIndex

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
    this.#index = new RangeIndex(db)
    this.#strategy = options.strategy ?? refuseAll
    this.#host = {
      get: async (key) => {
        this.#assertOpen()
        const value = await this.db.get(key, VIEW)
        return value === undefined ? undefined : plain(value)
      },
      write: (ops) => this.batch(ops),
      entries: (gte, lt, limit, reverse) => this.#entries(gte, lt, limit, reverse === true),
      getMany: async (keys) => {
        this.#assertOpen()
        const values = await this.db.getMany(keys, VIEW)
        return values.map((value) => (value === undefined ? undefined : plain(value)))
      },
    }
    this.#root = new Registry(this.#host, registryPrefix(''))
  }

  #assertOpen(): void {
    if (this.#closing) throw new RepoError('REPO_CLOSED', 'the repo is closed')
  }

  async *#entries(
    gte: Uint8Array,
    lt: Uint8Array,
    limit: number,
    reverse: boolean,
  ): AsyncIterable<[Uint8Array, Uint8Array]> {
    this.#assertOpen()
    for await (const [key, value] of this.db.iterator({ gte, lt, limit, reverse, ...VIEW })) {
      yield [plain(key), plain(value)]
    }
  }

  async #get(key: Uint8Array): Promise<Uint8Array | undefined> {
    const value = await this.db.get(key, VIEW)
    return value === undefined ? undefined : plain(value)
  }

  /**
   * A write set that starts at the stored write sequence (read once per repo, with the
   * partial starts, after the reconciliation index is checked or built).
   */
  async #writeSet(): Promise<WriteSet> {
    if (this.#seq === undefined) {
      await this.#index.ensure()
      const stored = await this.#get(SEQ_KEY)
      const prefix = Uint8Array.of(NS.partial)
      for await (const key of this.db.keys({
        gte: prefix,
        lt: prefixEnd(prefix),
        keyEncoding: 'view',
      })) {
        this.#partialStarts.add(mapKey(plain(key).subarray(1)))
      }
      this.#seq = stored === undefined ? 0 : decodeU64(stored)
    }
    return new WriteSet(this.#seq)
  }

  /** Writes `ws` and the index nodes its item changes move, in one batch. */
  async #flush(ws: WriteSet): Promise<void> {
    if (ws.empty) return
    const blocks = ws.appended
    const { ops, items } = ws.drain()
    const written = await this.#index.stage(items, ops)
    this.#seq = ws.seq
    await this.db.batch(ops, VIEW)
    written()
    ws.committed = blocks
  }

  /** Resolves once the reconciliation index is usable (built under the write lock if needed). */
  async #indexReady(): Promise<void> {
    if (!this.#index.ready) await this.#mutex.run(() => this.#index.ensure())
  }

  async #placement(id: Uint8Array, ws?: WriteSet): Promise<Placement | undefined> {
    const pending = ws?.placement(id)
    if (pending) return pending
    const value = await this.#get(placementKey(id))
    return value === undefined ? undefined : decodePlacement(value)
  }

  async #chain(chainId: Uint8Array, ws?: WriteSet): Promise<ChainRecord | undefined> {
    const cached = ws?.chains.get(mapKey(chainId))
    if (cached !== undefined) return cached ?? undefined
    const value = await this.#get(chainKey(chainId))
    if (value === undefined) return undefined
    const chain = decodeChain(chainId.slice(), value)
    this.#rememberChainId(chain.chainNo, chainId.slice())
    ws?.cacheChain(chain)
    return chain
  }

  /** The chain id (64 B) of chain number `chainNo`. */
  async #chainIdOf(chainNo: number): Promise<Uint8Array> {
    const known = this.#chainIds.get(chainNo)
    if (known) return known
    const chainId = await this.#get(chainNoKey(chainNo))
    if (chainId?.length !== SIG_BYTES) throw corrupt('a placement names a missing chain')
    this.#rememberChainId(chainNo, chainId.slice())
    return chainId
  }

  #rememberChainId(chainNo: number, chainId: Uint8Array): void {
    if (this.#chainIds.size >= CHAIN_ID_CACHE) this.#chainIds.clear()
    this.#chainIds.set(chainNo, chainId)
  }

  /** The chain a placement names. */
  async #placedChain(placement: Placement, ws: WriteSet): Promise<ChainRecord> {
    const cached = ws.chainsByNo.get(placement.chainNo)
    const chain =
      cached !== undefined
        ? cached
        : await this.#chain(await this.#chainIdOf(placement.chainNo), ws)
    if (chain?.chainNo !== placement.chainNo) throw corrupt('a placement names a missing chain')
    return chain
  }

  /** The id of the block at `height` of `chain`. */
  async #idAt(chain: ChainRecord, height: number): Promise<Uint8Array> {
    const value = await this.#get(blockKey(chain.chainNo, height))
    if (value === undefined) throw corrupt(`chain lacks its block at height ${height}`)
    return value.slice(0, SIG_BYTES)
  }

  /** The newest chain `author` owns (most recently started). */
  async #newestOwned(author: Uint8Array): Promise<ChainRecord | undefined> {
    const prefix = ownedPrefix(author)
    const keys = this.db.keys({
      gte: prefix,
      lt: prefixEnd(prefix),
      reverse: true,
      limit: 1,
      keyEncoding: 'view',
    })
    for await (const key of keys) return this.#chain(chainIdOfOwnedKey(plain(key)).slice())
    return undefined
  }

  /** A chain given by its id (64 B or 128 hex) or by its owner (headOf). */
  async #resolveChain(chainOrAuthor: Uint8Array | PublicKey, ws: WriteSet): Promise<ChainRecord> {
    let chain: ChainRecord | undefined
    if (chainOrAuthor instanceof Uint8Array && chainOrAuthor.length === SIG_BYTES) {
      chain = await this.#chain(chainOrAuthor, ws)
    } else if (typeof chainOrAuthor === 'string' && chainOrAuthor.length === 2 * SIG_BYTES) {
      let chainId: Uint8Array
      try {
        chainId = fromHex(chainOrAuthor)
      } catch (cause) {
        throw invalid('chain id must be 128 hex characters', cause)
      }
      chain = await this.#chain(chainId, ws)
    } else {
      const owned = await this.#newestOwned(authorBytes(chainOrAuthor))
      chain = owned && (await this.#chain(owned.chainId, ws))
    }
    if (!chain) throw new RepoError('REPO_UNKNOWN_CHAIN', 'no such chain')
    return chain
  }

  /**
   * Decides where `block` goes and adds it to `ws`, asking the strategy when required.
   * `isHeld` is asked only when the block could be held: a block whose parent is its chain's
   * head is new, unless it started a partial chain (then it is that chain's first block).
   */
  async #step(
    block: Block,
    ws: WriteSet,
    ctx: StepContext,
    isHeld: () => Promise<boolean>,
  ): Promise<Step> {
    const id = block.sig
    if (block.genesis) {
      // A chain under this id: the genesis is held, or was evicted (or never held), or the
      // chain was only claimed (a partial chain): the genuine genesis replaces the claim.
      const chain = await this.#chain(id, ws)
      if (chain?.claimed) {
        await this.#evictAfter(ws, chain, 0)
        // Written now, so that the blocks after the genesis are placed against the disk
        // without the claimed chain (some of them may have been in it).
        await this.#flush(ws)
      } else if (chain) return (await isHeld()) ? 'held' : this.#skipEvicted(id, ctx)
      ws.startChain(block, id, 1, true)
      return 'written'
    }
    const parent = await this.#placement(block.psig, ws)
    if (!parent) {
      if (await isHeld()) return 'held'
      if (ctx.evicted.has(mapKey(block.psig)) || (await this.#chain(block.psig, ws))) {
        return this.#skipEvicted(id, ctx)
      }
      if (ctx.chainId && !(await this.#chain(ctx.chainId, ws))) {
        // A block with a parent is never at height 1 (the genesis is): that claim says
        // nothing, as if no height were given (a sender whose own height is unknown).
        const known = ctx.height !== undefined && ctx.height > 1
        ws.startChain(block, ctx.chainId, known ? ctx.height! : 1, known)
        this.#partialStarts.add(mapKey(id))
        return 'written'
      }
      return 'stop'
    }
    const chain = await this.#placedChain(parent, ws)
    const fastForward = parent.height === chain.headHeight
    if ((!fastForward || this.#partialStarts.has(mapKey(id))) && (await isHeld())) return 'held'
    if (fastForward && bytesEqual(block.key!, chain.author)) {
      ws.append(chain, block)
      return 'written'
    }
    // A fork or a foreign append: the strategy sees the repo with everything before it.
    await this.#flush(ws)
    if (!(await ctx.strategy(block, this))) return 'stop'
    if (!fastForward) await this.#evictAfter(ws, chain, parent.height)
    ws.append(chain, block)
    return 'written'
  }

  /**
   * True when `block` is the owner's fast-forward of the chain the last block went to: what
   * {@link Repo.#step} would write, decided without a read or an await (the merge hot path).
   */
  #extendsTip(block: Block, ws: WriteSet): boolean {
    const tip = ws.tip
    return (
      tip !== undefined &&
      !block.genesis &&
      bytesEqual(block.psig, tip.headId) &&
      bytesEqual(block.key!, tip.author) &&
      (this.#partialStarts.size === 0 || !this.#partialStarts.has(mapKey(block.sig)))
    )
  }

  /** Adds the removal of one stored block (and its partial-start record) to `ws`. */
  #evictBlock(
    ws: WriteSet,
    key: Uint8Array,
    value: Uint8Array,
    authors: Map<string, Uint8Array>,
  ): Block {
    const block = storedBlock(value)
    ws.ops.push({ type: 'del', key }, { type: 'del', key: placementKey(block.sig) })
    if (this.#partialStarts.has(mapKey(block.sig))) {
      ws.ops.push({ type: 'del', key: partialKey(block.sig) })
    }
    authors.set(mapKey(block.key!), block.key!)
    return block
  }

  #skipEvicted(id: Uint8Array, ctx: StepContext): Step {
    ctx.evicted.add(mapKey(id))
    return 'evicted'
  }

  /**
   * Adds to `ws` the removal of `chain`'s blocks above `height` (the whole chain when
   * `height` is below its first block) and moves the chain head and authored tags.
   * @returns the removed blocks, newest first
   */
  async #evictAfter(ws: WriteSet, chain: ChainRecord, height: number): Promise<Block[]> {
    const { chainId, chainNo } = chain
    const evicted: Block[] = []
    const authors = new Map<string, Uint8Array>()
    const range = {
      gt: blockKey(chainNo, height),
      lte: blockKey(chainNo, chain.headHeight),
      reverse: true,
      ...VIEW,
    }
    for await (const [key, value] of this.db.iterator(range)) {
      evicted.push(this.#evictBlock(ws, plain(key), value, authors))
    }
    if (height < chain.firstHeight) {
      ws.dropChain(chain)
      for (const author of authors.values()) {
        ws.ops.push({ type: 'del', key: authoredKey(author, chainId) })
      }
      return evicted
    }
    chain.headHeight = height
    chain.headId = await this.#idAt(chain, height)
    ws.markChain(chain)
    // Authors whose newest block in this chain was removed get their newest remaining one.
    const moved = new Map<string, Uint8Array>()
    for (const [key, author] of authors) {
      const value = await this.#get(authoredKey(author, chainId))
      if (value === undefined || decodeAuthored(value).height > height) moved.set(key, author)
    }
    if (moved.size > 0) {
      const below = {
        gte: blockKey(chainNo, chain.firstHeight),
        lte: blockKey(chainNo, height),
        reverse: true,
        ...VIEW,
      }
      for await (const value of this.db.values(below)) {
        const block = storedBlock(value)
        const author = moved.get(mapKey(block.key!))
        if (!author) continue
        const placement = await this.#placement(block.sig)
        if (!placement) throw corrupt('a stored block has no placement')
        const entry: AuthoredEntry = {
          seq: placement.seq,
          height: placement.height,
          id: block.sig.slice(),
        }
        ws.ops.push({
          type: 'put',
          key: authoredKey(author, chainId),
          value: encodeAuthored(entry),
        })
        moved.delete(mapKey(author))
        if (moved.size === 0) break
      }
    }
    for (const author of moved.values()) {
      ws.ops.push({ type: 'del', key: authoredKey(author, chainId) })
    }
    return evicted
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
    const ctx: StepContext = {
      ...options,
      strategy: strategy ?? this.#strategy,
      evicted: new Set(),
    }
    return this.#mutex.run(() => this.#write(blocks, undefined, ctx))
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
   */
  async writeBlocks(
    writes: readonly BlockWrite[],
    options: WriteBlocksOptions = {},
  ): Promise<number> {
    this.#assertOpen()
    if (!Array.isArray(writes)) throw invalid('writeBlocks expects an array of { block, ops? }')
    checkPlacement(options)
    const blocks: Block[] = []
    const ops: RegistryOp[][] = []
    for (const write of writes as BlockWrite[]) {
      if (!(write?.block instanceof Block)) throw invalid('writeBlocks expects { block: Block }')
      blocks.push(write.block)
      ops.push(checkOps(write.ops))
    }
    const bad = options.verified === true ? firstKeyless(blocks) : await verifyBlocks(blocks)
    if (bad < blocks.length) {
      throw new RepoError('REPO_UNVERIFIED', `block ${bad} does not verify under its author key`)
    }
    const ctx: StepContext = {
      chainId: options.chainId,
      height: options.height,
      strategy: options.strategy ?? this.#strategy,
      evicted: new Set(),
    }
    return this.#mutex.run(() => this.#write(blocks, ops, ctx))
  }

  /**
   * Writes `blocks` in order in batches of up to {@link GROUP_BLOCKS}. With `ops` (one list
   * per block: {@link Repo.writeBlocks}) the run stops at the first block not written and
   * returns how many were; without (a {@link Repo.merge}), held and evicted-prefix blocks
   * are skipped and the count is of blocks written.
   * @throws REPO_PARTIAL_WRITE when it fails after one of its batches was written
   */
  async #write(
    blocks: readonly Block[],
    ops: RegistryOp[][] | undefined,
    ctx: StepContext,
  ): Promise<number> {
    const ws = await this.#writeSet()
    try {
      return await this.#writeGroups(blocks, ops, ctx, ws)
    } catch (cause) {
      // Every batch is atomic, so what is on disk is exactly the batches written before.
      if (ws.committed === undefined) throw cause
      throw new RepoPartialWriteError(ws.committed, { cause })
    }
  }

  /** The body of {@link Repo.#write}, on its write set. */
  async #writeGroups(
    blocks: readonly Block[],
    ops: RegistryOp[][] | undefined,
    ctx: StepContext,
    ws: WriteSet,
  ): Promise<number> {
    let written = 0
    for (let start = 0; start < blocks.length; start += GROUP_BLOCKS) {
      const end = Math.min(blocks.length, start + GROUP_BLOCKS)
      // Which blocks of the group are held, read at once when the first one needs it.
      let held: Promise<boolean[]> | undefined
      const heldIn = () =>
        (held ??= this.db.hasMany(
          blocks.slice(start, end).map((b) => placementKey(b.sig)),
          VIEW,
        ))
      for (let i = start; i < end; i++) {
        const block = blocks[i]!
        let step: Step = 'written'
        if (this.#extendsTip(block, ws)) ws.append(ws.tip!, block, true)
        else step = await this.#step(block, ws, ctx, async () => (await heldIn())[i - start]!)
        if (step === 'written') {
          written++
          if (ops) ws.addRegistryOps(ops[i]!)
        } else if (step === 'stop' || ops) {
          await this.#flush(ws)
          return written
        }
      }
      await this.#flush(ws)
    }
    return written
  }

  /**
   * Writes registry operations in one atomic batch (no block).
   * @throws REPO_INVALID_INPUT for ops not built by a registry
   * @throws REPO_CLOSED after {@link Repo.close}
   */
  async batch(ops: RegistryOp[]): Promise<void> {
    this.#assertOpen()
    const checked = checkOps(ops)
    if (checked.length === 0) return
    await this.#mutex.run(() => this.db.batch(checked, VIEW))
  }

  /**
   * The stored block `id` (64 B), or `undefined`. Stored blocks are not verified again.
   * @throws REPO_INVALID_INPUT when `id` is not 64 bytes
   * @throws REPO_CLOSED after {@link Repo.close}
   */
  async readBlock(id: Uint8Array): Promise<Block | undefined> {
    this.#assertOpen()
    const placement = await this.#placement(idBytes(id, 'id'))
    if (!placement) return undefined
    const value = await this.#get(blockKey(placement.chainNo, placement.height))
    if (value === undefined) throw corrupt('a placement points at no block')
    return storedBlock(value)
  }

  /**
   * True when block `id` (64 B) is stored (reads only its small index entry).
   * @throws REPO_INVALID_INPUT when `id` is not 64 bytes
   * @throws REPO_CLOSED after {@link Repo.close}
   */
  async hasBlock(id: Uint8Array): Promise<boolean> {
    this.#assertOpen()
    return this.db.has(placementKey(idBytes(id, 'id')), VIEW)
  }

  /**
   * The chain id (64 B) of stored block `id`, or `undefined`.
   * @throws REPO_INVALID_INPUT when `id` is not 64 bytes
   * @throws REPO_CLOSED after {@link Repo.close}
   */
  async chainOf(id: Uint8Array): Promise<Uint8Array | undefined> {
    this.#assertOpen()
    const placement = await this.#placement(idBytes(id, 'id'))
    return placement && (await this.#chainIdOf(placement.chainNo)).slice()
  }

  /**
   * Head id (64 B) of the newest chain `author` owns (most recently started in this repo),
   * or `undefined` when they own none.
   * @throws REPO_INVALID_INPUT for a malformed key
   * @throws REPO_CLOSED after {@link Repo.close}
   */
  async headOf(author: PublicKey): Promise<Uint8Array | undefined> {
    this.#assertOpen()
    return (await this.#newestOwned(authorBytes(author)))?.headId
  }

  /**
   * Id (64 B) of the most recently written block by `author` that is still stored, in any
   * chain, or `undefined`.
   * @throws REPO_INVALID_INPUT for a malformed key
   * @throws REPO_CLOSED after {@link Repo.close}
   */
  async latestOf(author: PublicKey): Promise<Uint8Array | undefined> {
    this.#assertOpen()
    const prefix = authoredPrefix(authorBytes(author))
    let latest: AuthoredEntry | undefined
    for await (const value of this.db.values({ gte: prefix, lt: prefixEnd(prefix), ...VIEW })) {
      const entry = decodeAuthored(plain(value))
      if (!latest || entry.seq > latest.seq) latest = entry
    }
    return latest?.id
  }

  /**
   * The newest chain `author` owns, from its head back (`limit` newest blocks; default all),
   * or `undefined` when they own none.
   * @throws REPO_INVALID_INPUT for a malformed key or limit
   * @throws REPO_CLOSED after {@link Repo.close}
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
   */
  async loadFeed(
    headId: Uint8Array,
    limitOrStop?: number | ((block: Block) => boolean),
  ): Promise<Feed | undefined> {
    this.#assertOpen()
    let limit = -1
    if (typeof limitOrStop === 'number') {
      if (!(Number.isInteger(limitOrStop) && limitOrStop >= 1)) {
        throw invalid('limit must be a positive integer')
      }
      limit = limitOrStop
    } else if (limitOrStop !== undefined && typeof limitOrStop !== 'function') {
      throw invalid('loadFeed takes a limit or a stop function')
    }
    const placement = await this.#placement(idBytes(headId, 'headId'))
    if (!placement) return undefined
    const stop = typeof limitOrStop === 'function' ? limitOrStop : undefined
    const blocks: Block[] = []
    const range = {
      gte: blockKey(placement.chainNo, 0),
      lte: blockKey(placement.chainNo, placement.height),
      reverse: true,
      limit,
      ...VIEW,
    }
    for await (const value of this.db.values(range)) {
      const block = storedBlock(value)
      if (stop?.(block)) break
      blocks.push(block)
    }
    return storedFeed(blocks.reverse())
  }

  /**
   * The whole stored chain that holds block `anyId`, first stored block to head, or
   * `undefined` when `anyId` is not stored.
   * @throws REPO_INVALID_INPUT when `anyId` is not 64 bytes
   * @throws REPO_CLOSED after {@link Repo.close}
   */
  async resolveFeed(anyId: Uint8Array): Promise<Feed | undefined> {
    this.#assertOpen()
    const placement = await this.#placement(idBytes(anyId, 'id'))
    if (!placement) return undefined
    const { chainNo } = placement
    const range = { gte: blockKey(chainNo, 0), lte: blockKey(chainNo, MAX_HEIGHT), ...VIEW }
    const blocks: Block[] = []
    for await (const value of this.db.values(range)) blocks.push(storedBlock(value))
    return storedFeed(blocks)
  }

  /**
   * One summary per stored chain, ascending by chain id bytes (an array).
   * @throws REPO_CLOSED after {@link Repo.close}
   */
  async listFeeds(): Promise<ChainSummary[]> {
    this.#assertOpen()
    const prefix = Uint8Array.of(NS.chain)
    const out: ChainSummary[] = []
    for await (const [key, value] of this.db.iterator({
      gte: prefix,
      lt: prefixEnd(prefix),
      ...VIEW,
    })) {
      out.push(summaryOf(decodeChain(plain(key).slice(1), plain(value))))
    }
    return out
  }

  /**
   * Head ids (64 B) of every stored chain, in {@link Repo.listFeeds} order.
   * @throws REPO_CLOSED after {@link Repo.close}
   */
  async listHeads(): Promise<Uint8Array[]> {
    return (await this.listFeeds()).map((s) => s.headId)
  }

  /**
   * What the repo holds of chain `chainId` (64 B), or `undefined`.
   * @throws REPO_INVALID_INPUT when `chainId` is not 64 bytes
   * @throws REPO_CLOSED after {@link Repo.close}
   */
  async summary(chainId: Uint8Array): Promise<ChainSummary | undefined> {
    this.#assertOpen()
    const chain = await this.#chain(idBytes(chainId, 'chainId'))
    return chain && summaryOf(chain)
  }

  /**
   * One page of chains in ascending chain id order, never more than `limit`: those whose id
   * starts with `prefix` (nibbles), after chain id `after`, only proven ones with `proven`.
   * Page on by passing the last chain id of a page as `after`. Reads `limit` chain records,
   * plus, with `proven`, the claimed chains it passes over.
   * @throws REPO_INVALID_INPUT for a prefix with a value above 15 or deeper than 128, an
   *   `after` that is not 64 bytes, or a `limit` outside 1..65,536
   * @throws REPO_CLOSED after {@link Repo.close}
   */
  async listChains(options: ListChainsOptions): Promise<ChainSummary[]> {
    this.#assertOpen()
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
   */
  async rangeFingerprint(prefix: Uint8Array): Promise<RangeFingerprint> {
    this.#assertOpen()
    nibblePrefix(prefix, MAX_DEPTH)
    await this.#indexReady()
    return this.#index.fingerprint(prefix)
  }

  /**
   * The 16 child ranges `prefix | 0` .. `prefix | 15` of `prefix` (nibble values, depth
   * 0..127), in order: one stored node read (or, for a range of at most one item, its chain
   * records).
   * @throws REPO_INVALID_INPUT for a prefix with a value above 15 or deeper than 127
   * @throws REPO_CORRUPT when the stored index contradicts itself
   * @throws REPO_CLOSED after {@link Repo.close}
   */
  async rangeChildren(prefix: Uint8Array): Promise<RangeFingerprint[]> {
    this.#assertOpen()
    nibblePrefix(prefix, MAX_DEPTH - 1)
    await this.#indexReady()
    return this.#index.children(prefix)
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
   */
  async rollback(
    chainOrAuthor: Uint8Array | PublicKey,
    stopAt?: Uint8Array,
    options: { ops?: RegistryOp[] } = {},
  ): Promise<Block[]> {
    this.#assertOpen()
    if (stopAt !== undefined) idBytes(stopAt, 'stopAt')
    const ops = checkOps(options.ops)
    return this.#mutex.run(async () => {
      const ws = await this.#writeSet()
      const chain = await this.#resolveChain(chainOrAuthor, ws)
      let height = chain.firstHeight - 1
      if (stopAt) {
        const placement = await this.#placement(stopAt)
        if (!placement || placement.chainNo !== chain.chainNo) {
          throw new RepoError('REPO_NOT_FOUND', 'stopAt is not a block of that chain')
        }
        height = placement.height
      }
      const evicted = await this.#evictAfter(ws, chain, height)
      ws.ops.push(...ops)
      await this.#flush(ws)
      return evicted
    })
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
    return this.#mutex.run(async () => {
      const ws = await this.#writeSet()
      const evicted = await this.#evictPrefixIn(ws, chainId, lastId)
      ws.ops.push(...ops)
      await this.#flush(ws)
      return evicted
    })
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
   */
  async evictPrefixes(
    evictions: readonly { chainId: Uint8Array; lastId: Uint8Array }[],
    options: { ops?: RegistryOp[] } = {},
  ): Promise<number[]> {
    this.#assertOpen()
    if (!Array.isArray(evictions)) throw invalid('evictPrefixes expects an array')
    const chains = new Set<string>()
    for (const eviction of evictions) {
      chains.add(mapKey(idBytes(eviction?.chainId, 'chainId')))
      idBytes(eviction.lastId, 'lastId')
    }
    if (chains.size !== evictions.length) throw invalid('a chain is named twice')
    const ops = checkOps(options.ops)
    return this.#mutex.run(async () => {
      const ws = await this.#writeSet()
      const counts: number[] = []
      for (const { chainId, lastId } of evictions) {
        counts.push((await this.#evictPrefixIn(ws, chainId, lastId)).length)
      }
      ws.ops.push(...ops)
      await this.#flush(ws)
      return counts
    })
  }

  /** Adds to `ws` the eviction of `chainId`'s blocks up to `lastId` (oldest first). */
  async #evictPrefixIn(ws: WriteSet, chainId: Uint8Array, lastId: Uint8Array): Promise<Block[]> {
    const chain = await this.#chain(chainId, ws)
    if (!chain) throw new RepoError('REPO_UNKNOWN_CHAIN', 'no such chain')
    const last = await this.#placement(lastId)
    if (!last || last.chainNo !== chain.chainNo) {
      throw new RepoError('REPO_NOT_FOUND', 'lastId is not a block of that chain')
    }
    if (last.height >= chain.headHeight) {
      return (await this.#evictAfter(ws, chain, chain.firstHeight - 1)).reverse()
    }
    return this.#evictBelow(ws, chain, last.height)
  }

  /** Adds to `ws` the removal of `chain`'s blocks up to `height` (below its head). */
  async #evictBelow(ws: WriteSet, chain: ChainRecord, height: number): Promise<Block[]> {
    const { chainId, chainNo } = chain
    const evicted: Block[] = []
    const authors = new Map<string, Uint8Array>()
    const range = {
      gte: blockKey(chainNo, chain.firstHeight),
      lte: blockKey(chainNo, height),
      ...VIEW,
    }
    for await (const [key, value] of this.db.iterator(range)) {
      evicted.push(this.#evictBlock(ws, plain(key), value, authors))
    }
    // An author whose newest block here was evicted has no block left in this chain.
    for (const author of authors.values()) {
      const value = await this.#get(authoredKey(author, chainId))
      if (value !== undefined && decodeAuthored(value).height <= height) {
        ws.ops.push({ type: 'del', key: authoredKey(author, chainId) })
      }
    }
    chain.firstHeight = height + 1
    chain.firstId = await this.#idAt(chain, height + 1)
    ws.markChain(chain)
    return evicted
  }

  /**
   * The value stored under `key` in the root registry, or `undefined`.
   * @throws REPO_INVALID_INPUT when `key` is neither a string nor bytes
   * @throws REPO_CLOSED after {@link Repo.close}
   */
  async readReg(key: Uint8Array | string): Promise<Uint8Array | undefined> {
    return this.#root.get(key)
  }

  /**
   * Stores `value` under `key` in the root registry.
   * @throws REPO_INVALID_INPUT when `key` or `value` has the wrong type
   * @throws REPO_CLOSED after {@link Repo.close}
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
   * Waits for writes already queued, then closes the database. Idempotent; every later
   * call on this repo rejects with REPO_CLOSED.
   */
  close(): Promise<void> {
    this.#closing ??= this.#mutex.idle().then(() => this.db.close())
    return this.#closing
  }
}

/**
 * `input` as a verified feed (a Feed instance is used as is).
 * @throws REPO_UNVERIFIED when a signature does not verify
 * @throws REPO_INVALID_INPUT when it does not decode or link
 */
function toFeed(input: FeedLike): Feed {
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
