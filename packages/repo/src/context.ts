import { Block, DEFAULT_LIMITS, Feed, SIG_BYTES } from '@picostack/feed'
import { corrupt } from './check.ts'
import { type LevelDatabase, type ViewBatchOp, writeBatch } from './database.ts'
import { RepoError } from './errors.ts'
import {
  blockKey,
  chainKey,
  chainKeys,
  chainNoKey,
  LAYOUT_KEY,
  LAYOUT_VERSION,
  NS,
  placementKey,
  plain,
  prefixEnd,
} from './layout.ts'
import { RangeIndex } from './range-index.ts'
import {
  type ChainRecord,
  decodeChain,
  decodePlacement,
  decodeU64,
  genesisPlacement,
  genesisStored,
  type Placement,
} from './records.ts'
import { mapKey, SEQ_KEY, WriteSet } from './write-set.ts'

/** Per-operation encodings: the repo reads and writes bytes whatever the db's defaults. */
export const VIEW = { keyEncoding: 'view', valueEncoding: 'view' } as const
/** Blocks are read back with the largest body the feed format allows. */
const READ_LIMITS = Object.freeze({ ...DEFAULT_LIMITS, maxBodyBytes: 256 * 1024 * 1024 - 100 })
/** Chain ids remembered by chain number (the cache starts over when full). */
const CHAIN_ID_CACHE = 4096
/** Chain records kept from reads ahead of a write, at most (the cache starts over when full). */
const AHEAD_CACHE = 4096
/**
 * Keys read with the database's `getSync` at most ({@link RepoContext.getMany}); a larger
 * read goes to the thread pool, so that one read never holds the calling thread long.
 */
export const SYNC_READ_KEYS = 8

/** A stored block (trusted: not verified again). */
export function storedBlock(value: Uint8Array): Block {
  try {
    return new Block(plain(value), 0, READ_LIMITS)
  } catch (cause) {
    throw corrupt('stored block does not decode', cause)
  }
}

/** A feed of stored blocks in chain order (links checked, signatures trusted). */
export function storedFeed(blocks: Block[]): Feed {
  let bytes = 4
  for (const block of blocks) bytes += block.blockSize
  try {
    // The same frozen limits for every feed within the default size (the feed package
    // checks a frozen object once).
    const limits =
      bytes <= READ_LIMITS.maxFeedBytes ? READ_LIMITS : { ...READ_LIMITS, maxFeedBytes: bytes }
    return Feed.from(blocks, { verify: false, limits })
  } catch (cause) {
    throw corrupt('stored blocks do not link', cause)
  }
}

/**
 * What the read, write and eviction paths of one Repo share: its database, reconciliation
 * index and the state read once per repo (write sequence, partial starts, chain id cache),
 * with the small reads they all make. Callers hold the repo's write lock to write.
 */
export class RepoContext {
  readonly db: LevelDatabase
  /** The reconciliation index (its nodes are written in the batches of {@link RepoContext.flush}). */
  readonly index: RangeIndex
  #seq: number | undefined
  /**
   * Ids of blocks that started partial chains (loaded with the write sequence; may hold
   * ids already evicted). Only such a block can be held while its parent is a chain head.
   */
  readonly partialStarts = new Set<string>()
  /** Chain ids by chain number, as read (a number never names another chain). */
  readonly #chainIds = new Map<number, Uint8Array>()
  #opened: Promise<void> | undefined
  #layout: Promise<void> | undefined
  /** True once the database is known to be of this key layout ({@link RepoContext.checkLayout}). */
  layoutChecked = false
  /** The layout key is still to be written (a database nothing was written to). */
  #layoutPending = false
  /**
   * Chain records read ahead of a write ({@link RepoContext.getManyAhead}) by chain id (map
   * key), `null` for none stored: what the database holds until the next batch, which
   * empties it.
   */
  readonly #ahead = new Map<string, Uint8Array | null>()
  /** Batches started, and those not finished: a read ahead that overlapped one is not kept. */
  #batches = 0
  #writing = 0
  /** The database reads on the calling thread (`getSync`): {@link RepoContext.getMany}. */
  readonly #syncReads: boolean

  constructor(db: LevelDatabase) {
    this.db = db
    this.#syncReads = (db.supports as { getSync?: unknown } | undefined)?.getSync === true
    this.index = new RangeIndex(db, (keys) => this.getMany(keys))
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    const [value] = await this.getMany([key])
    return value === undefined ? undefined : plain(value)
  }

  /**
   * The values under `keys` (absolute keys; `undefined` where none) as one `getMany`
   * reads them. Up to {@link SYNC_READ_KEYS} keys are read with the database's `getSync`
   * on this thread while no batch of this repo is in flight (so no write lands between
   * them): 2-3 us a key against 46-75 us for a `getMany` of 4 keys, which goes through
   * libuv's thread pool and back (classic-level on the 2-core bench machine, a /tmp
   * micro-bench of 200k keys), and which waits there behind any other work on the pool.
   */
  async getMany(keys: Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    const { db } = this
    const { getSync } = db
    if (
      keys.length <= SYNC_READ_KEYS &&
      this.#writing === 0 &&
      this.#syncReads &&
      getSync !== undefined &&
      db.status === 'open'
    ) {
      const values: (Uint8Array | undefined)[] = new Array(keys.length)
      for (let i = 0; i < keys.length; i++) values[i] = getSync.call(db, keys[i]!, VIEW)
      return values
    }
    return db.getMany(keys, VIEW)
  }

  /**
   * Checks the database's key layout, once per repo (one `getMany`): a database without
   * the layout key that holds the write counter is of layout 1, one with another version
   * is of that one; an empty database (neither key) gets the layout key with its first
   * batch ({@link RepoContext.batch}). A refusal is kept: every later call rejects with it,
   * reading nothing.
   * @throws REPO_LAYOUT for a database of another key layout (nothing is written or migrated)
   */
  checkLayout(): Promise<void> {
    this.#layout ??= this.#checkLayout().then(
      () => {
        this.layoutChecked = true
      },
      (err: unknown) => {
        if (!(err instanceof RepoError && err.code === 'REPO_LAYOUT')) this.#layout = undefined
        throw err
      },
    )
    return this.#layout
  }

  async #checkLayout(): Promise<void> {
    const [seq, layout] = await this.getMany([SEQ_KEY, LAYOUT_KEY])
    if (layout === undefined && seq === undefined) this.#layoutPending = true
    else if (layout === undefined || layout.length !== 1 || layout[0] !== LAYOUT_VERSION) {
      const version = layout === undefined ? 1 : layout.length === 1 ? layout[0] : 'unknown'
      throw new RepoError(
        'REPO_LAYOUT',
        `written by another key layout: ${version}; this repo reads ${LAYOUT_VERSION}; nothing is migrated`,
      )
    }
  }

  /**
   * Checks or builds the reconciliation index (once), after the layout. Call with the
   * repo's write lock held.
   * @throws REPO_LAYOUT for a database of another key layout
   */
  open(): Promise<void> {
    this.#opened ??= this.#open().catch((err: unknown) => {
      this.#opened = undefined
      throw err
    })
    return this.#opened
  }

  async #open(): Promise<void> {
    await this.checkLayout()
    await this.index.ensure()
  }

  /**
   * A write set that starts at the stored write sequence (read once per repo, with the
   * partial starts, after the layout and the reconciliation index are checked).
   * @throws REPO_LAYOUT for a database of another key layout
   */
  async writeSet(): Promise<WriteSet> {
    if (this.#seq === undefined) {
      await this.open()
      const stored = await this.get(SEQ_KEY)
      const prefix = Uint8Array.of(NS.partial)
      for await (const key of this.db.keys({
        gte: prefix,
        lt: prefixEnd(prefix),
        keyEncoding: 'view',
      })) {
        this.partialStarts.add(mapKey(plain(key).subarray(1)))
      }
      this.#seq = stored === undefined ? 0 : decodeU64(stored)
    }
    return new WriteSet(this.#seq)
  }

  /** Writes `ws` and the index nodes its item changes move, in one batch. */
  async flush(ws: WriteSet): Promise<void> {
    if (ws.empty) return
    const blocks = ws.appended
    const { ops, items } = ws.drain()
    const written = await this.index.stage(items, ops)
    this.#seq = ws.seq
    await this.batch(ops)
    written()
    ws.committed = blocks
  }

  /**
   * Writes `ops` (not changed) in one atomic batch, with the layout key if the database had none (call
   * after {@link RepoContext.checkLayout}, with the repo's write lock held).
   */
  async batch(ops: readonly ViewBatchOp[]): Promise<void> {
    this.#batches++
    this.#writing++
    this.#ahead.clear()
    try {
      if (!this.#layoutPending) return await writeBatch(this.db, ops)
      const version: ViewBatchOp = {
        type: 'put',
        key: LAYOUT_KEY,
        value: Uint8Array.of(LAYOUT_VERSION),
      }
      await writeBatch(this.db, [...ops, version])
      this.#layoutPending = false
    } finally {
      this.#writing--
    }
  }

  /**
   * The values under `keys` (absolute keys), read in one `getMany` with the chain records
   * that a write of `blocks` looks up (those of its geneses): kept for that write, so that
   * it reads nothing more, unless a batch started or ran while they were read.
   */
  async getManyAhead(
    keys: readonly Uint8Array[],
    blocks: readonly Block[],
  ): Promise<(Uint8Array | undefined)[]> {
    const ids: Uint8Array[] = []
    for (const block of blocks) if (block.genesis) ids.push(block.sig)
    const batches = this.#batches
    const idle = this.#writing === 0
    const values = await this.getMany(
      ids.length === 0 ? (keys as Uint8Array[]) : [...keys, ...chainKeys(ids)],
    )
    this.#keepAhead(ids, values, keys.length, idle, batches)
    const out: (Uint8Array | undefined)[] = new Array(keys.length)
    for (let i = 0; i < keys.length; i++) {
      const value = values[i]
      out[i] = value === undefined ? undefined : plain(value)
    }
    return out
  }

  /**
   * The stored chain records of `ids` (64 B each) in one `getMany`, kept as
   * {@link RepoContext.getManyAhead} keeps its, for the next write that looks them up.
   */
  async chainsAhead(ids: readonly Uint8Array[]): Promise<(ChainRecord | undefined)[]> {
    const batches = this.#batches
    const idle = this.#writing === 0
    const values = await this.getMany(chainKeys(ids))
    this.#keepAhead(ids, values, 0, idle, batches)
    return ids.map((id, i) => {
      const value = values[i]
      return value === undefined ? undefined : decodeChain(id.slice(), plain(value))
    })
  }

  /**
   * Keeps the chain records of `ids` read ahead (`values` from `at` on) unless a batch
   * was in flight when the read started (`idle` false), is now, or ran meanwhile (the
   * count of batches started moved from `batches`).
   */
  #keepAhead(
    ids: readonly Uint8Array[],
    values: readonly (Uint8Array | undefined)[],
    at: number,
    idle: boolean,
    batches: number,
  ): void {
    if (ids.length === 0 || !idle || this.#writing !== 0 || batches !== this.#batches) return
    if (this.#ahead.size + ids.length > AHEAD_CACHE) this.#ahead.clear()
    for (let i = 0; i < ids.length; i++) {
      const value = values[at + i]
      this.#ahead.set(mapKey(ids[i]!), value === undefined ? null : plain(value))
    }
  }

  /** The stored chain record of `chainId`: read ahead ({@link RepoContext.getManyAhead}), or read now. */
  async #chainRecord(chainId: Uint8Array): Promise<Uint8Array | undefined> {
    const ahead = this.#ahead.get(mapKey(chainId))
    if (ahead !== undefined) return ahead ?? undefined
    return this.get(chainKey(chainId))
  }

  /** Where block `id` is (pending in `ws`, or stored), or `undefined`. */
  async placement(id: Uint8Array, ws?: WriteSet): Promise<Placement | undefined> {
    const pending = ws?.placement(id)
    if (pending) return pending
    // Evicted earlier in this write (an accepted fork's replaced blocks): gone, though
    // its placement record is on disk until the write's batch.
    if (ws && ws.evicted.size > 0 && ws.evicted.has(mapKey(id))) return undefined
    return (await this.#locate(id, ws))?.placement
  }

  /**
   * Where stored block `id` is, and for a genesis (whose placement is derived from its
   * chain record, not stored) its chain: one read of both keys. A chain cached in `ws`
   * stands for the stored record.
   */
  async #locate(
    id: Uint8Array,
    ws?: WriteSet,
  ): Promise<{ placement: Placement; chain?: ChainRecord } | undefined> {
    const cached = ws?.chains.get(mapKey(id))
    if (cached && genesisStored(cached))
      return { placement: genesisPlacement(cached), chain: cached }
    const [value, record] = await this.getMany([placementKey(id), chainKey(id)])
    if (value !== undefined) return { placement: decodePlacement(plain(value)) }
    if (record === undefined || cached !== undefined) return undefined
    const chain = decodeChain(id.slice(), plain(record))
    if (!genesisStored(chain)) return undefined
    this.#rememberChainId(chain.chainNo, chain.chainId)
    ws?.cacheChain(chain)
    return { placement: genesisPlacement(chain), chain }
  }

  /**
   * Reads into `ws`, in one `getMany`, the stored chain records of the chains `ids` (64 B
   * each) that `ws` knows nothing of; one with no record is cached as none, so that later
   * lookups in `ws` ({@link RepoContext.chain}, placements of a genesis) read nothing.
   */
  async cacheChains(ids: readonly Uint8Array[], ws: WriteSet): Promise<void> {
    const unknown = ids.filter((id) => !ws.chains.has(mapKey(id)) && !this.#ahead.has(mapKey(id)))
    if (unknown.length === 0) return
    const values = await this.getMany(chainKeys(unknown))
    for (let i = 0; i < unknown.length; i++) {
      const value = values[i]
      const id = unknown[i]!
      if (value === undefined) {
        ws.cacheNoChain(id)
        continue
      }
      const chain = decodeChain(id.slice(), plain(value))
      this.#rememberChainId(chain.chainNo, chain.chainId)
      ws.cacheChain(chain)
    }
  }

  /** The chain id (64 B, a copy) of stored block `id`, or `undefined`. */
  async chainOfBlock(id: Uint8Array): Promise<Uint8Array | undefined> {
    const found = await this.#locate(id)
    if (!found) return undefined
    return (found.chain?.chainId ?? (await this.chainIdOf(found.placement.chainNo))).slice()
  }

  /**
   * True when chain `chainId` (64 B) is known not to be stored without a read: `ws` has it
   * as absent, or (not in `ws`) the read-ahead found no record. What {@link chain} would
   * resolve to `undefined` from its caches.
   */
  chainKnownAbsent(chainId: Uint8Array, ws: WriteSet): boolean {
    const key = mapKey(chainId)
    const cached = ws.chains.get(key)
    if (cached !== undefined) return cached === null
    return this.#ahead.get(key) === null
  }

  async chain(chainId: Uint8Array, ws?: WriteSet): Promise<ChainRecord | undefined> {
    const cached = ws?.chains.get(mapKey(chainId))
    if (cached !== undefined) return cached ?? undefined
    const value = await this.#chainRecord(chainId)
    if (value === undefined) return undefined
    const chain = decodeChain(chainId.slice(), value)
    this.#rememberChainId(chain.chainNo, chainId.slice())
    ws?.cacheChain(chain)
    return chain
  }

  /**
   * The chain id (64 B) of chain number `chainNo`: its `0x09` entry, or, for a chain that
   * never held a block past its genesis (nothing else names its number, so it has none),
   * the id of its block at height 1.
   * @throws REPO_CORRUPT when no chain has that number
   */
  async chainIdOf(chainNo: number): Promise<Uint8Array> {
    const known = this.#chainIds.get(chainNo)
    if (known) return known
    const chainId =
      (await this.get(chainNoKey(chainNo))) ??
      (await this.get(blockKey(chainNo, 1)))?.subarray(0, SIG_BYTES)
    if (chainId?.length !== SIG_BYTES) throw corrupt('a placement names a missing chain')
    this.#rememberChainId(chainNo, chainId.slice())
    return chainId
  }

  #rememberChainId(chainNo: number, chainId: Uint8Array): void {
    if (this.#chainIds.size >= CHAIN_ID_CACHE) this.#chainIds.clear()
    this.#chainIds.set(chainNo, chainId)
  }

  /** The chain a placement names. */
  async placedChain(placement: Placement, ws: WriteSet): Promise<ChainRecord> {
    const cached = ws.chainsByNo.get(placement.chainNo)
    const chain =
      cached !== undefined ? cached : await this.chain(await this.chainIdOf(placement.chainNo), ws)
    if (chain?.chainNo !== placement.chainNo) throw corrupt('a placement names a missing chain')
    return chain
  }

  /** The id of the block at `height` of chain number `chain.chainNo`. */
  async idAt(chain: Pick<ChainRecord, 'chainNo'>, height: number): Promise<Uint8Array> {
    const value = await this.get(blockKey(chain.chainNo, height))
    if (value === undefined) throw corrupt(`chain lacks its block at height ${height}`)
    return value.slice(0, SIG_BYTES)
  }
}
