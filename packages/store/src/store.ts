import { type Block, bytesEqual, Feed, type FeedLike, fromHex, toHex } from '@picostack/feed'
import {
  type ChainSummary,
  type MergeStrategy,
  type Registry,
  type RegistryOp,
  Repo,
  verifyBlocks,
} from '@picostack/repo'
import type { AbstractLevel } from 'abstract-level'
import { decode, encode } from 'cborg'
import { type BlockCodec, cborBlockCodec, type DecodedBody } from './body-codec.ts'
import { type Clock, MAX_TIMER_MS, systemClock } from './clock.ts'
import {
  type BlockContext,
  type ComputeContext,
  Deletion,
  type Payload,
  Postponement,
  Rejection,
  type Signal,
} from './context.ts'
import { StoreError, type StoreErrorCode } from './errors.ts'
import {
  chainBlockKey,
  chainPrefix,
  concatBytes,
  heldKey,
  key,
  objectKey,
  orderEntryKey,
  prefixTop,
  releasedKey,
  seqKey,
  seqPart,
  TAG,
  tagRange,
  tombstoneKey,
} from './layout.ts'
import {
  bindMemory,
  cloneValue,
  type Memory,
  normalizeId,
  type Observer,
  type SliceHandle,
  type SliceSpec,
} from './memory.ts'
import { DEFAULT_MEMPOOL, Mempool, type MempoolLimits } from './mempool.ts'
import { queryCollection } from './query.ts'
import {
  type HeldBlock,
  type ObjectEntry,
  type OrderKeys,
  type SliceEntry,
  SliceState,
  Table,
  type Tombstone,
} from './tables.ts'
import { type Consumer, Tx } from './tx.ts'

/** Options of `new Store()`. */
export interface StoreOptions {
  /** Decodes block bodies (default: CBOR `[type, payload, date]`, see `encodeBlock`). */
  codec?: BlockCodec
  /** Time source and timer (default: the system clock). */
  clock?: Clock
  /** Bounds of the out-of-order mempool (default 1024 blocks, 10 minutes). */
  mempool?: Partial<MempoolLimits>
  /** Merge strategy for forks and foreign appends, passed to the repo (default: refuse). */
  strategy?: MergeStrategy
  /**
   * What the application calls to load this store, as named in the error a registration
   * after loading throws (default `'load()'`; `SimpleKernel` passes `'boot()'`).
   */
  loadCall?: string
  /**
   * Objects of each collection kept in memory between operations (least recently used
   * go first; default {@link DEFAULT_CACHE_OBJECTS}). The rest are read from disk when a
   * block needs them. A collection that keeps a snapshot (`Memory.snapshot`) also holds
   * every value in memory.
   */
  cacheObjects?: number
  /**
   * Storage budget: most bytes of held blocks (default: no limit). When a write takes the
   * store over it, whole chains, and the state they back, are dropped lowest rank first
   * (`rank`), down to 90% of it. The registry keys describing the state come on top
   * (about 300 B per block, see layout.ts).
   */
  maxRepoBytes?: number
  /**
   * Rank of a chain for the storage budget (higher = kept longer). Default: the soonest
   * expiry of what the chain backs (a chain that expires first goes first; one that
   * backs only what never expires goes last). Called with the chain's summary.
   */
  rank?: (chain: ChainSummary) => number | Promise<number>
}

/** Objects per collection the store keeps in memory by default: 4,096. */
export const DEFAULT_CACHE_OBJECTS = 4096
/** Held-block records kept in memory between operations. */
const HELD_CACHE = 16_384
/** Chain heads kept in memory (the likely parents of the next blocks). */
const HEADS_CACHE = 1024

/** Options of {@link Store.dispatch}. */
export interface DispatchOptions {
  /** Throw a `StoreError` when a block is refused (default false: return what merged). */
  loud?: boolean
  /**
   * Chain id (64 B) of a partial chain whose first blocks this store never saw (the sync
   * layer has it from the sender's summary): when the patch's first parent is unknown and
   * the store holds nothing of that chain, the patch starts a partial chain under this id.
   */
  chainId?: Uint8Array
  /**
   * Height of the patch's first block in its chain (genesis = 1), for a partial chain that
   * `chainId` starts: the repo then knows the chain's real heights.
   */
  height?: number
  /**
   * The caller already verified every block's signature (a `Feed` made by `Feed.fromAsync`
   * or checked with `verifyBlocks`): the store does not check them again. Honoured only
   * when the patch is a `Feed` instance; bytes and blocks are always verified.
   */
  verified?: boolean
}

/** Why a dispatch did not merge its whole patch. */
export interface Refusal {
  /** `STORE_REJECTED`, `STORE_INVALID_PATCH` (a forged block), `STORE_POSTPONED`, ... */
  code: StoreErrorCode
  /** The application's reason, or the store's. */
  reason: string
}

/** What {@link Store.apply} did with a patch. */
export interface DispatchResult {
  /** The blocks merged, in chain order (empty when none were). */
  merged: readonly Block[]
  /** The chain (its id, 64 B) the merged blocks belong to; `undefined` when none merged. */
  chainId: Uint8Array | undefined
  /** Why the patch stopped short, if it did (blocks already held are not a refusal). */
  refusal: Refusal | undefined
}

/** What a garbage collection did. */
export interface GcResult {
  /** Objects and slice entries forgotten. */
  expired: number
  /** Blocks deleted from the repo. */
  evicted: number
}

/** A collection class for {@link Store.register}: `class extends Memory { ... }`. */
// biome-ignore lint/suspicious/noExplicitAny: a memory class of any value type
export type MemoryClass = new (store: Store, name: string) => Memory<any>

/** What {@link Store} writes for one object change (the value and what derives from it). */
interface ObjectWrite {
  id: string
  value: Payload
  expiresAt: number
  orderKeys: OrderKeys
  /** Lookup keys (`ctx.index`) this block adds. */
  indexKeys: string[]
}

/** The consumer-independent part of a block's context. */
type BaseContext = Pick<
  BlockContext,
  'block' | 'parentBlock' | 'genesis' | 'type' | 'payload' | 'date' | 'AUTHOR' | 'CHAIN'
>

/** A block's outcome from one consumer. */
type Verdict =
  | { kind: 'ignore' }
  | { kind: 'expired' }
  | { kind: 'stop'; code: StoreErrorCode; reason: string; postpone?: Postponement }
  | { kind: 'apply'; commit: () => void | Promise<void> }

const IGNORE: Verdict = { kind: 'ignore' }
/** What `ctx.delete()` returns (it carries nothing). */
const DELETION = new Deletion()
const EXPIRED: Verdict = { kind: 'expired' }

interface Stop {
  code: StoreErrorCode
  reason: string
  index: number
  postpone?: Postponement
}

/** One block applied in memory, waiting to be written. */
interface Pending {
  block: Block
  key: string
  held: HeldBlock
  ops: RegistryOp[]
  /** Journal length before this block. */
  mark: number
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}

function checkExpiry(at: unknown, name: string): number {
  if (typeof at !== 'number' || Number.isNaN(at)) {
    throw new StoreError('STORE_REDUCER', `${name}.expiresAt must return a number, got ${at}`)
  }
  return at
}

function reasonOf(value: unknown): string {
  if (value instanceof Error) return value.message || value.name
  return typeof value === 'string' ? value : String(value)
}

function hookFailed(name: string, hook: string, cause: unknown): Verdict {
  return {
    kind: 'stop',
    code: 'STORE_REDUCER',
    reason: `${name}.${hook} threw: ${reasonOf(cause)}`,
  }
}

const NAME_PATTERN = /^[^\0]{1,200}$/
/** Share of `maxRepoBytes` the budget evicts down to. */
const BUDGET_LOW_WATER = 0.9
/** Registry key of the bytes of the held blocks. */
const BYTES_KEY = Uint8Array.of(TAG.bytes)
const ACCEPTED_PREFIX = Uint8Array.of(TAG.accepted)

/**
 * The state engine: turns blocks into application state (slices and collections), decides
 * which blocks are valid (input consensus), keeps state a function of the blocks held
 * (output consensus), and forgets on persisted timers. See the package README.
 *
 * State lives on disk (layout.ts): objects, the blocks backing them, held-block records,
 * chain membership and timers are registry keys written in the same batch as the blocks
 * they describe; memory holds bounded caches, the slices and the lookup index. `load()`
 * reads no object and no block.
 *
 * All operations of one store run one at a time (a lock per store instance); two stores
 * never wait for each other.
 */
export class Store {
  /** The repo holding the blocks and the store's registry (`registry('store')`). */
  readonly repo: Repo
  readonly #ownsRepo: boolean
  readonly #registry: Registry
  readonly #codec: BlockCodec
  readonly #clock: Clock
  readonly #strategy: MergeStrategy | undefined
  readonly #loadCall: string
  readonly #cacheObjects: number
  /** The storage budget; a full disk (QuotaExceededError) lowers it. */
  #maxRepoBytes: number
  readonly #rank: StoreOptions['rank']
  /** Bytes of the blocks held (persisted under the `z` key). */
  #heldBytes = 0
  readonly #mempool: Mempool
  readonly #slices = new Map<string, SliceState>()
  readonly #tables = new Map<string, Table>()
  readonly #root: Record<string, unknown> = Object.create(null)
  /** Held-block records read or changed lately (`null`: known not held); trimmed between operations. */
  readonly #held = new Map<string, HeldBlock | null>()
  /** The newest block written to each of the chains written lately. */
  readonly #heads = new Map<string, Block>()
  /** The earliest persisted timer (it may have gone since: then a gc finds nothing due). */
  #nextTimerAt = Number.POSITIVE_INFINITY
  #nextSeq = 1
  #nextEntry = 1
  #loaded = false
  #closed = false
  /** While replaying, nothing on disk is state yet: a cache miss means absent. */
  #replaying = false
  #queue: Promise<unknown> = Promise.resolve()
  #timer: unknown
  #armedAt = Number.POSITIVE_INFINITY
  #lastAuthor: { bytes: Uint8Array; hex: string } | undefined

  /**
   * @param repoOrDb - a {@link Repo}, or an abstract-level database to open one on (the
   *   store then closes it on {@link Store.close})
   * @param options - codec, clock, mempool limits, merge strategy, cache size
   * @throws REPO_INVALID_INPUT when `repoOrDb` is neither; STORE_INVALID_SLICE for a
   *   `cacheObjects` that is not a positive integer or a `maxRepoBytes` that is not positive
   */
  constructor(
    // biome-ignore lint/suspicious/noExplicitAny: any abstract-level database
    repoOrDb: Repo | AbstractLevel<any, any, any>,
    options: StoreOptions = {},
  ) {
    const cacheObjects = options.cacheObjects ?? DEFAULT_CACHE_OBJECTS
    if (!Number.isInteger(cacheObjects) || cacheObjects < 1) {
      throw new StoreError('STORE_INVALID_SLICE', 'cacheObjects must be a positive integer')
    }
    this.#cacheObjects = cacheObjects
    const maxRepoBytes = options.maxRepoBytes ?? Number.POSITIVE_INFINITY
    if (!(maxRepoBytes > 0)) {
      throw new StoreError('STORE_INVALID_SLICE', 'maxRepoBytes must be a positive number')
    }
    this.#maxRepoBytes = maxRepoBytes
    this.#rank = options.rank
    this.#ownsRepo = !(repoOrDb instanceof Repo)
    this.repo =
      repoOrDb instanceof Repo ? repoOrDb : new Repo(repoOrDb, { strategy: options.strategy })
    this.#strategy = options.strategy
    this.#loadCall = options.loadCall ?? 'load()'
    this.#registry = this.repo.registry('store')
    this.#codec = options.codec ?? cborBlockCodec
    this.#clock = options.clock ?? systemClock
    this.#mempool = new Mempool(this.#registry, { ...DEFAULT_MEMPOOL, ...options.mempool }, (ops) =>
      this.repo.batch(ops),
    )
  }

  // ---------------------------------------------------------------- registration

  /**
   * Registers a slice (`{ name, initialValue, filter?, reducer, expiresAt?, trap? }`; every
   * block is offered) or a collection (`name, class extends Memory`; blocks whose type is
   * `name` are offered). Register everything before {@link Store.load}.
   * @returns the slice handle, or the collection's Memory instance
   * @throws STORE_INVALID_SLICE for a malformed or duplicate registration, or after load
   */
  register<S>(spec: SliceSpec<S>): SliceHandle<S>
  register<M extends MemoryClass>(name: string, memory: M): InstanceType<M>
  register(specOrName: SliceSpec | string, memory?: MemoryClass): SliceHandle<Payload> | Memory {
    if (this.#loaded) {
      throw new StoreError('STORE_INVALID_SLICE', `register before ${this.#loadCall}`)
    }
    const name = typeof specOrName === 'string' ? specOrName : specOrName?.name
    if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
      throw new StoreError('STORE_INVALID_SLICE', 'a name is 1 to 200 characters without NUL')
    }
    if (this.#slices.has(name) || this.#tables.has(name)) {
      throw new StoreError('STORE_INVALID_SLICE', `"${name}" is already registered`)
    }
    if (typeof specOrName === 'string') {
      if (typeof memory !== 'function') {
        throw new StoreError('STORE_INVALID_SLICE', `collection "${name}" needs a Memory class`)
      }
      const instance = new memory(this, name)
      if (typeof instance.compute !== 'function') {
        throw new StoreError('STORE_INVALID_SLICE', `collection "${name}" must implement compute`)
      }
      const table = new Table(instance)
      this.#tables.set(name, table)
      if (table.snapshot) this.#root[name] = table.values
      const orders = table.orders.map(([order]) => order)
      const noSnapshot = () =>
        new StoreError(
          'STORE_INVALID_SLICE',
          `collection "${name}" keeps no snapshot (snapshot = false): use get, query, onChange`,
        )
      bindMemory(instance, {
        get values() {
          if (!table.snapshot) throw noSnapshot()
          return table.values
        },
        subscribe: (fn) => {
          if (!table.snapshot) throw noSnapshot()
          return this.#subscribe(table, fn)
        },
        get: async (id) => {
          this.#assertReady()
          const cached = table.cache.get(id)
          if (cached !== undefined) return cached?.value
          return (await this.#readObject(table, id))?.value
        },
        query: async (q) => {
          this.#assertReady()
          return queryCollection(this.#registry, name, orders, q)
        },
        count: async () => {
          this.#assertReady()
          return table.count
        },
        onChange: (fn) => {
          table.changeObservers.add(fn)
          return () => {
            table.changeObservers.delete(fn)
          }
        },
      })
      return instance
    }
    if (typeof specOrName.reducer !== 'function') {
      throw new StoreError('STORE_INVALID_SLICE', `slice "${name}" needs a reducer`)
    }
    const slice = new SliceState(specOrName)
    this.#slices.set(name, slice)
    this.#root[name] = slice.value
    const subscribe = (fn: Observer<Payload>) => this.#subscribe(slice, fn)
    return {
      name,
      get state() {
        return slice.value
      },
      sub: subscribe,
    }
  }

  /**
   * Every slice's value and the objects of every collection that keeps a snapshot, by
   * name (read-only).
   */
  get state(): Readonly<Record<string, unknown>> {
    return this.#root
  }

  /**
   * Calls `fn` with the current value of slice or collection `name` now and after each
   * change; returns the unsubscribe function (a Svelte-compatible store contract).
   * @throws STORE_INVALID_SLICE when nothing is registered under `name`, or for a
   *   collection without a snapshot
   */
  on<S = Payload>(name: string, fn: Observer<S>): () => void {
    const consumer = this.#slices.get(name) ?? this.#tables.get(name)
    if (!consumer) throw new StoreError('STORE_INVALID_SLICE', `nothing registered as "${name}"`)
    if (consumer.kind === 'collection' && !consumer.snapshot) {
      throw new StoreError('STORE_INVALID_SLICE', `collection "${name}" keeps no snapshot`)
    }
    return this.#subscribe(consumer, fn as Observer<Payload>)
  }

  #subscribe(consumer: Consumer, fn: Observer<Payload>): () => void {
    consumer.observers.add(fn)
    fn(consumer.kind === 'slice' ? consumer.value : consumer.values)
    return () => {
      consumer.observers.delete(fn)
    }
  }

  #notify(changed: Iterable<Consumer>, objects?: Map<Table, Set<string>>): void {
    for (const [table, ids] of objects ?? []) {
      if (table.changeObservers.size === 0) continue
      for (const id of ids) {
        const change = { id, value: table.cache.get(id)?.value }
        for (const fn of [...table.changeObservers]) {
          try {
            fn(change)
          } catch {
            // An observer's failure is its own; the store keeps going.
          }
        }
      }
    }
    for (const consumer of changed) {
      if (consumer.kind === 'collection' && !consumer.snapshot) continue
      const value = consumer.kind === 'slice' ? consumer.value : consumer.values
      for (const fn of [...consumer.observers]) {
        try {
          fn(value)
        } catch {
          // An observer's failure is its own; the store keeps going.
        }
      }
    }
  }

  // ---------------------------------------------------------------- lifecycle

  /** Runs `task` under this store's lock, then trims the caches and re-arms the timer. */
  #locked<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(async () => {
      if (this.#closed) throw new StoreError('STORE_CLOSED', 'the store is closed')
      try {
        return await task()
      } finally {
        this.#trim()
        this.#arm()
      }
    })
    this.#queue = run.catch(() => undefined)
    return run
  }

  /** Between operations: every cache back under its bound (what is dropped is on disk). */
  #trim(): void {
    for (const table of this.#tables.values()) table.trim(this.#cacheObjects)
    for (const [cache, limit] of [
      [this.#held, HELD_CACHE],
      [this.#heads, HEADS_CACHE],
    ] as const) {
      for (const k of cache.keys()) {
        if (cache.size <= limit) break
        cache.delete(k)
      }
    }
  }

  /** Resolves when every operation queued so far (dispatch, timer-driven gc...) is done. */
  async idle(): Promise<void> {
    for (let queue = this.#queue; ; queue = this.#queue) {
      await queue
      if (queue === this.#queue) return
    }
  }

  /**
   * Restores the slices, the lookup index, the next timer and the mempool from the repo
   * (no object and no block is read, except the values of collections that keep a
   * snapshot), forgets what expired while the store was closed, and arms the expiry timer.
   * Calling it again does nothing.
   * @throws STORE_CLOSED after close; REPO_* when the repo fails
   */
  load(): Promise<void> {
    return this.#locked(async () => {
      if (this.#loaded) return
      const released = await this.#readRegistry()
      await this.#mempool.load()
      const waiting = [...this.#mempool.keys()]
      const held = await this.#heldMany(waiting)
      await this.#mempool.remove(waiting.filter((_, i) => held[i]))
      this.#loaded = true
      const tx = new Tx()
      for (const [chain, chainId] of released) tx.released.set(chain, chainId)
      await this.#collect(this.#clock.now(), tx)
      await this.#evict(tx.released)
      this.#notify([...this.#slices.values(), ...this.#tables.values()])
    })
  }

  /** Reads what memory holds; returns the chains whose dead prefix still waits to go. */
  async #readRegistry(): Promise<Map<string, Uint8Array>> {
    const entries = async (
      range: { gte: Uint8Array; lt: Uint8Array },
      fn: (v: unknown[]) => void,
    ) => {
      for await (const [, value] of this.#registry.entries(range)) fn(decode(value) as unknown[])
    }
    await entries(tagRange(TAG.slice), ([name, value]) => {
      const slice = this.#slices.get(name as string)
      if (slice) this.#root[slice.spec.name] = slice.value = value
    })
    const loaded: { slice: SliceState; entry: SliceEntry }[] = []
    await entries(tagRange(TAG.entry), ([name, seq, blockId, expiresAt, signal]) => {
      this.#nextEntry = Math.max(this.#nextEntry, (seq as number) + 1)
      const slice = this.#slices.get(name as string)
      if (!slice) return
      const entry: SliceEntry = {
        seq: seq as number,
        blockKey: toHex(blockId as Uint8Array),
        blockId: blockId as Uint8Array,
        expiresAt: expiresAt as number,
        signal: signal as Signal | null,
      }
      loaded.push({ slice, entry })
    })
    // Entries in the order they were made (a slice is recomputed in that order).
    loaded.sort((a, b) => a.entry.seq - b.entry.seq)
    for (const { slice, entry } of loaded) slice.entries.set(entry.seq, entry)
    await entries(tagRange(TAG.index), ([name, indexKey, blockId, id]) => {
      const table = this.#tables.get(name as string)
      table?.index.set(indexKey as string, { blockId: blockId as Uint8Array, id: id as string })
    })
    for (const table of this.#tables.values()) {
      const count = await this.#registry.get(table.countKey)
      table.count = count ? (decode(count) as number) : 0
      if (!table.snapshot) continue
      const prefix = key(TAG.object, table.memory.name)
      await entries({ gte: prefix, lt: prefixTop(prefix) }, ([, id, value]) => {
        table.values[id as string] = value
      })
    }
    for await (const [k] of this.#registry.entries({
      ...tagRange(TAG.accepted),
      reverse: true,
      limit: 1,
    })) {
      this.#nextSeq = Number(new DataView(k.buffer, k.byteOffset + 1, 8).getBigUint64(0)) + 1
    }
    await this.#readNextTimer()
    const bytes = await this.#registry.get(BYTES_KEY)
    this.#heldBytes = bytes ? (decode(bytes) as number) : 0
    const released = new Map<string, Uint8Array>()
    for await (const [k] of this.#registry.entries(tagRange(TAG.released))) {
      const chainId = k.slice(1)
      released.set(toHex(chainId), chainId)
    }
    return released
  }

  async #readNextTimer(): Promise<void> {
    this.#nextTimerAt = Number.POSITIVE_INFINITY
    for await (const [, value] of this.#registry.entries({ ...tagRange(TAG.timer), limit: 1 })) {
      this.#nextTimerAt = (decode(value) as [string, string, string, number])[3]
    }
  }

  /**
   * Stops the timer, waits for queued work, and closes the repo if the store opened it.
   * Idempotent; later operations reject with STORE_CLOSED.
   */
  async close(): Promise<void> {
    if (this.#closed) return this.idle()
    await this.idle()
    this.#closed = true
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
    this.#timer = undefined
    if (this.#ownsRepo) await this.repo.close()
  }

  #assertReady(): void {
    if (this.#closed) throw new StoreError('STORE_CLOSED', 'the store is closed')
    if (!this.#loaded) throw new StoreError('STORE_NOT_LOADED', 'call load() first')
  }

  // ---------------------------------------------------------------- records on disk

  /** The held-block record of block `blockKey` (hex), from the cache or the disk. */
  async #heldOf(blockKey: string): Promise<HeldBlock | undefined> {
    const cached = this.#held.get(blockKey)
    if (cached !== undefined) return cached ?? undefined
    if (this.#replaying) return undefined
    const id = fromHex(blockKey)
    const value = await this.#registry.get(heldKey(id))
    const held = value ? heldFrom(id, blockKey, value) : undefined
    this.#held.set(blockKey, held ?? null)
    return held
  }

  /** {@link Store.#heldOf} for many blocks, in one read for those not cached. */
  async #heldMany(blockKeys: string[]): Promise<(HeldBlock | undefined)[]> {
    const out: (HeldBlock | undefined)[] = new Array(blockKeys.length)
    const missing: number[] = []
    blockKeys.forEach((k, i) => {
      const cached = this.#held.get(k)
      if (cached === undefined && !this.#replaying) missing.push(i)
      else out[i] = cached ?? undefined
    })
    if (missing.length === 0) return out
    const ids = missing.map((i) => fromHex(blockKeys[i]!))
    const values = await this.#registry.getMany(ids.map(heldKey))
    missing.forEach((i, n) => {
      const value = values[n]
      const held = value ? heldFrom(ids[n]!, blockKeys[i]!, value) : undefined
      this.#held.set(blockKeys[i]!, held ?? null)
      out[i] = held
    })
    return out
  }

  /** Writes `held`'s record as it is now (with the ops of the block being applied). */
  #heldChanged(held: HeldBlock, tx: Tx): void {
    tx.ops.push(
      this.#registry.putOp(
        heldKey(held.id),
        encode([held.seq, held.chainId, held.refs, held.objects, held.size]),
      ),
    )
  }

  /** `held` backs nothing any more: its chain's dead prefix is evicted after this operation. */
  #release(held: HeldBlock, tx: Tx): void {
    if (!tx.released.has(held.chain)) {
      tx.released.set(held.chain, held.chainId)
      tx.ops.push(this.#registry.putOp(releasedKey(held.chainId), new Uint8Array(0)))
    }
  }

  /** The object `id` of `table` as stored (no cache). */
  async #readObject(table: Table, id: string): Promise<ObjectEntry | undefined> {
    const name = table.memory.name
    const value = await this.#registry.get(objectKey(name, id))
    if (!value) return undefined
    const [, , object, expiresAt, orderKeys, indexKeys] = decode(value) as [
      string,
      string,
      Payload,
      number,
      OrderKeys | undefined,
      string[] | undefined,
    ]
    const blocks = new Set<string>()
    const prefix = key(TAG.backing, name, id)
    for await (const [k] of this.#registry.entries({ gte: prefix, lt: prefixTop(prefix) })) {
      blocks.add(toHex(k.subarray(prefix.length)))
    }
    return {
      value: object,
      blocks,
      expiresAt,
      orderKeys: orderKeys ?? {},
      indexKeys: indexKeys ?? [],
    }
  }

  /** The live object `id` of `table`, through its cache (where the operation's changes are). */
  async #objectOf(table: Table, id: string): Promise<ObjectEntry | undefined> {
    const cached = table.cache.get(id)
    if (cached !== undefined) {
      table.cache.delete(id) // most recently used last
      table.cache.set(id, cached)
      return cached ?? undefined
    }
    const entry = this.#replaying ? undefined : await this.#readObject(table, id)
    table.cache.set(id, entry ?? null)
    return entry
  }

  // ---------------------------------------------------------------- timer

  /** Arms the one real timer for the earliest expiry or mempool deadline. */
  #arm(): void {
    if (this.#closed || !this.#loaded) return
    const next = Math.min(this.#nextTimerAt, this.#mempool.nextDeadline())
    if (next === this.#armedAt && this.#timer !== undefined) return
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
    this.#timer = undefined
    this.#armedAt = next
    if (next === Number.POSITIVE_INFINITY) return
    const delayMs = Math.min(MAX_TIMER_MS, Math.max(0, next - this.#clock.now()))
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined
      this.#armedAt = Number.POSITIVE_INFINITY
      this.gc().catch(() => undefined)
    }, delayMs)
  }

  // ---------------------------------------------------------------- dispatch

  /**
   * Validates and applies a patch (a feed, block, blocks or feed bytes from one chain):
   * each new block is verified, decoded once, offered to the slices and its collection,
   * and written with the state it changed (a run of blocks shares one atomic repo batch,
   * each block whole with its state). The first refused block stops the rest. Blocks whose
   * parent is unknown wait in the mempool; so do postponed blocks.
   * @returns the blocks merged (as a feed), or `undefined` when none were
   * @throws STORE_CLOSED, STORE_NOT_LOADED always; with `loud`, a StoreError carrying the
   *   refusal's code (`STORE_REJECTED`, `STORE_UNHANDLED`, `STORE_DECODE`, `STORE_REDUCER`,
   *   `STORE_EXPIRED`, `STORE_POSTPONED`, `STORE_INVALID_PATCH`, `STORE_WRITE`) and `reason`
   */
  async dispatch(patch: FeedLike, options: DispatchOptions = {}): Promise<Feed | undefined> {
    const { merged, refusal } = await this.apply(patch, options)
    if (refusal && options.loud === true) throw new StoreError(refusal.code, refusal.reason)
    return merged.length > 0 ? Feed.from(merged, { verify: false }) : undefined
  }

  /**
   * Like {@link Store.dispatch} without `loud`, and says why a patch merged short: returns
   * what merged, the chain it went to, and the first refusal (a forged block is
   * `STORE_INVALID_PATCH`; a malformed patch too, with nothing merged).
   * @throws STORE_CLOSED, STORE_NOT_LOADED
   */
  apply(patch: FeedLike, options: DispatchOptions = {}): Promise<DispatchResult> {
    let blocks: readonly Block[]
    try {
      this.#assertReady()
      // A Feed's blocks are used as they are (the repo copies what it keeps).
      blocks = patch instanceof Feed ? patch.blocks : Feed.from(patch, { verify: false }).blocks
    } catch (cause) {
      if (cause instanceof StoreError) return Promise.reject(cause)
      const refusal: Refusal = { code: 'STORE_INVALID_PATCH', reason: reasonOf(cause) }
      return Promise.resolve({ merged: [], chainId: undefined, refusal })
    }
    const verified = options.verified === true && patch instanceof Feed
    return this.#locked(async () => {
      this.#assertReady()
      const { merged, stop, chainId } = await this.#dispatchBlocks(blocks, 0, {
        chainId: options.chainId,
        height: options.height,
        verified,
      })
      return {
        merged,
        chainId: merged.length > 0 ? chainId : undefined,
        refusal: stop && { code: stop.code, reason: stop.reason },
      }
    })
  }

  /**
   * `placement`: the partial chain the blocks may start, and whether their signatures are
   * already verified (mempool blocks always are: they were checked before they got there).
   */
  async #dispatchBlocks(
    blocks: readonly Block[],
    tries: number,
    placement: { chainId?: Uint8Array; height?: number; verified: boolean; retried?: boolean },
  ): Promise<{ merged: Block[]; stop?: Stop; chainId?: Uint8Array }> {
    const now = this.#clock.now()
    await this.#replaceClaim(blocks[0], placement.verified)
    // Block ids as hex, made once per block and reused below.
    let keys = blocks.map((b) => toHex(b.sig))
    const heldNow = await this.#heldMany(keys)
    let lastHeld = -1
    for (let i = keys.length - 1; i >= 0; i--) {
      if (heldNow[i]) {
        lastHeld = i
        break
      }
    }
    let fresh = lastHeld === blocks.length - 1 ? [] : blocks.slice(lastHeld + 1)
    keys = keys.slice(lastHeld + 1)
    if (lastHeld === blocks.length - 1) {
      // Nothing after the newest held block: what comes before it lies in an evicted prefix.
      const end = heldNow.findIndex((held) => held !== undefined)
      fresh = blocks.slice(0, end)
      keys = fresh.map((b) => toHex(b.sig))
    }
    if (fresh.length === 0) return { merged: [] }
    // Signatures first: a forged block never reaches the application, the mempool or the
    // repo. The valid blocks before it are dispatched; it stops the patch.
    let forged: Stop | undefined
    if (!placement.verified) {
      const bad = await verifyBlocks(fresh)
      if (bad < fresh.length) {
        const reason = `bad signature on block ${bad} of the patch`
        forged = { code: 'STORE_INVALID_PATCH', reason, index: bad }
        fresh = fresh.slice(0, bad)
        keys = keys.slice(0, bad)
      }
    }
    const first = fresh[0]
    if (!first) return { merged: [], stop: forged }
    const parentKey = first.genesis ? '' : toHex(first.psig)
    const parentHeld = parentKey ? await this.#heldOf(parentKey) : undefined
    const orphan = parentKey !== '' && !parentHeld
    const { chainId, height } = placement
    const partial =
      orphan && chainId?.length === 64 && !(await this.repo.summary(chainId)) ? chainId : undefined
    if (orphan && !partial) {
      // Nothing unverified waits in the mempool, nor a segment that ends in a forgery.
      if (forged) return { merged: [], stop: { ...forged, index: 0 } }
      await this.#mempool.add(fresh, now)
      const reason = 'parent unknown: waiting in the mempool'
      return { merged: [], stop: { code: 'STORE_POSTPONED', reason, index: 0 } }
    }
    const waiting = forged ? [] : this.#mempool.chainAfter(keys[keys.length - 1]!)
    if (waiting.length > 0) {
      fresh = [...fresh, ...waiting]
      keys = [...keys, ...waiting.map((b) => toHex(b.sig))]
    }
    const head = parentHeld ? this.#heads.get(parentHeld.chain) : undefined
    const cached = head && toHex(head.sig) === parentKey ? head : undefined
    const parentBlock =
      !parentKey || partial ? undefined : (cached ?? (await this.repo.readBlock(first.psig)))

    const tx = new Tx()
    const pending: Pending[] = []
    let stop: Stop | undefined
    let parent = parentBlock
    // The blocks link, so they all go to the chain of the first one.
    const chainIdBytes = parentHeld?.chainId ?? partial ?? first.sig
    const chainKey = parentHeld?.chain ?? toHex(chainIdBytes)
    for (const [index, block] of fresh.entries()) {
      const blockKey = keys[index]!
      const held: HeldBlock = {
        id: block.sig,
        key: blockKey,
        chain: chainKey,
        chainId: chainIdBytes,
        seq: this.#nextSeq,
        refs: 0,
        objects: [],
        size: block.blockSize,
      }
      const record: Pending = { block, key: blockKey, held, ops: [], mark: tx.journal.length }
      tx.ops = record.ops
      this.#held.set(blockKey, held)
      const verdict = await this.#applyBlock(block, held, parent, tx, now)
      if (verdict.kind === 'stop') {
        this.#held.delete(blockKey)
        tx.undoTo(record.mark)
        stop = { code: verdict.code, reason: verdict.reason, index, postpone: verdict.postpone }
        break
      }
      this.#nextSeq++
      this.#hold(held, block, tx)
      pending.push(record)
      parent = block
    }
    stop ??= forged

    tx.ops = tx.endOps
    await this.#expireTouched(tx, now)
    // Trailing blocks that back nothing arrived expired: they are not stored.
    let trimmedFrom = pending.length
    while (pending.length > 0 && pending[pending.length - 1]!.held.refs === 0) {
      const dropped = pending.pop()!
      this.#held.delete(dropped.key)
      const size = dropped.block.blockSize
      this.#heldBytes -= size
      tx.journal.push(() => {
        this.#heldBytes += size // its hold is taken back again if the journal unwinds
      })
      trimmedFrom = pending.length
    }
    if (!stop && trimmedFrom < fresh.length) {
      stop = { code: 'STORE_EXPIRED', reason: 'the block is already expired', index: trimmedFrom }
    }

    // One repo batch for the run; each block whole with the ops of the state it changed.
    let written = 0
    let cause: unknown
    if (pending.length > 0) {
      const last = pending.length - 1
      const bytesNow = this.#registry.putOp(BYTES_KEY, encode(this.#heldBytes))
      const writes = pending.map((record, i) => ({
        block: record.block,
        ops: i === last ? [...record.ops, ...tx.endOps, bytesNow] : record.ops,
      }))
      try {
        written = await this.repo.writeBlocks(writes, {
          strategy: this.#strategy,
          verified: true, // checked above, or before it entered the mempool
          ...(partial ? { chainId: partial, height } : {}),
        })
      } catch (err) {
        cause = err
      }
    }
    if (written < pending.length) {
      tx.undoTo(pending[written]!.mark)
      for (const undone of pending.slice(written)) this.#held.delete(undone.key)
      if (written === 0 && isQuotaExceeded(cause) && !placement.retried && this.#heldBytes > 0) {
        // The disk is full (IndexedDB's quota): nothing was written. The budget becomes
        // what is held now, less 10%; the lowest-ranked chains go, and the patch is tried
        // once more.
        this.#maxRepoBytes = Math.min(this.#maxRepoBytes, this.#heldBytes)
        await this.#enforceBudget()
        return this.#dispatchBlocks(blocks, tries, { ...placement, retried: true })
      }
      const unverified = (cause as { code?: string } | undefined)?.code === 'REPO_UNVERIFIED'
      stop = {
        code: unverified ? 'STORE_INVALID_PATCH' : 'STORE_WRITE',
        reason: cause ? `the repo refused it: ${reasonOf(cause)}` : 'the repo refused the block',
        index: written,
      }
    }
    const merged = pending.slice(0, written).map((record) => record.block)
    // A chain's newest block is the likely parent of its next patch: keep it at hand.
    if (merged.length > 0) {
      const last = pending[merged.length - 1]!
      this.#heads.delete(last.held.chain)
      this.#heads.set(last.held.chain, last.block)
    }
    if (pending.length === 0 && tx.endOps.length > 0) await this.repo.batch(tx.endOps)

    // Mempool: what was taken from it is gone; a postponed tail goes back with its retry time.
    await this.#mempool.remove(keys)
    const postponed = stop?.postpone
    if (stop && postponed) {
      if (tries < postponed.retries) {
        // Expired links before the postponed block wait with it: it needs them as parents.
        const from = Math.min(trimmedFrom, stop.index)
        await this.#mempool.add(fresh.slice(from), now, tries + 1, now + postponed.ms)
      } else {
        stop = { ...stop, code: 'STORE_REJECTED', reason: `gave up: ${postponed.reason}` }
      }
    }
    if (merged.length < pending.length) {
      // The repo refused a block: memory was rolled back to what is on disk; what is due
      // there is forgotten the usual way.
      const gcTx = new Tx()
      await this.#collect(now, gcTx)
      for (const [k, id] of gcTx.released) tx.released.set(k, id)
      for (const consumer of gcTx.changed) tx.changed.add(consumer)
    }
    // Links (expired blocks kept for later live ones) at the start of a chain go at once.
    for (const record of pending.slice(0, merged.length)) {
      if (record.held.refs === 0) tx.released.set(record.held.chain, record.held.chainId)
    }
    await this.#evict(tx.released)
    this.#notify(tx.changed, tx.objects)
    if (this.#heldBytes > this.#maxRepoBytes) await this.#enforceBudget()
    return { merged, stop, chainId: merged.length > 0 ? chainIdBytes : undefined }
  }

  /**
   * Records a block as held (and its bytes), with the ops of its write: its accepted record (replay
   * order), its place in its chain, and its held-block record.
   */
  #hold(held: HeldBlock, block: Block, tx: Tx): void {
    this.#heldBytes += block.blockSize
    tx.journal.push(() => {
      this.#heldBytes -= block.blockSize
    })
    tx.ops.push(this.#registry.putOp(BYTES_KEY, encode(this.#heldBytes)))
    tx.ops.push(
      this.#registry.putOp(
        seqKey(ACCEPTED_PREFIX, held.seq),
        encode([held.seq, held.id, held.chainId]),
      ),
      this.#registry.putOp(chainBlockKey(held.chainId, held.seq), held.id),
    )
    this.#heldChanged(held, tx)
  }

  /**
   * When `first` is a genesis and this store holds a partial chain under its id (one that
   * a sender only claimed), the genuine genesis wins: the claimed chain's blocks leave the
   * repo and the state they backed is forgotten, before the genesis is applied. Objects
   * also backed by other chains' blocks are recomputed by a replay of the held blocks.
   * Nothing happens for a forged genesis, or when the chain was started by its genesis.
   */
  async #replaceClaim(first: Block | undefined, verified: boolean): Promise<void> {
    if (!first?.genesis) return
    const summary = await this.repo.summary(first.sig)
    if (summary?.proven !== false) return
    if (!verified && (await verifyBlocks([first])) !== 1) return
    if (await this.#dropChain(summary.chainId)) await this.#replay()
  }

  /**
   * Drops chain `chainId` whole: its blocks leave the repo and the state they back is
   * forgotten, in one batch. Returns true when an object was also backed by blocks of
   * other chains: then the caller replays the held blocks to recompute it.
   */
  async #dropChain(chainId: Uint8Array): Promise<boolean> {
    const chainKey = toHex(chainId)
    const dropped = new Map<string, HeldBlock>()
    const prefix = chainPrefix(chainId)
    for await (const [, id] of this.#registry.entries({ gte: prefix, lt: prefixTop(prefix) })) {
      const held = await this.#heldOf(toHex(id))
      if (held) dropped.set(held.key, held)
    }
    const tx = new Tx()
    let replay = false
    for (const slice of this.#slices.values()) {
      for (const entry of [...slice.entries.values()]) {
        if (dropped.has(entry.blockKey)) await this.#forgetEntry(slice, entry, tx)
      }
    }
    for (const held of [...dropped.values()]) {
      for (const [name, id] of [...held.objects]) {
        const table = this.#tables.get(name)
        const tombstone = table && (await this.#tombstoneOf(table, id))
        if (table && tombstone?.blockKey === held.key) {
          // Blocks of the deleted object held elsewhere may bring it back: a replay decides.
          await this.#forgetTombstone(table, id, tx)
          replay = true
          continue
        }
        const entry = table && (await this.#objectOf(table, id))
        if (!table || !entry) continue
        // Also backed by blocks that stay: its value is recomputed by a replay.
        for (const blockKey of entry.blocks) if (!dropped.has(blockKey)) replay = true
        await this.#forgetObject(table, id, tx)
      }
    }
    for (const held of dropped.values()) {
      tx.ops.push(
        this.#registry.delOp(seqKey(ACCEPTED_PREFIX, held.seq)),
        this.#registry.delOp(heldKey(held.id)),
        this.#registry.delOp(chainBlockKey(chainId, held.seq)),
      )
      this.#held.set(held.key, null)
    }
    this.#heldBytes -= await this.#blockBytes([...dropped.values()])
    tx.released.delete(chainKey)
    tx.ops.push(
      this.#registry.delOp(releasedKey(chainId)),
      this.#registry.putOp(BYTES_KEY, encode(this.#heldBytes)),
    )
    this.#heads.delete(chainKey)
    for (const slice of tx.recompute) await this.#recompute(slice, tx)
    await this.repo.rollback(chainId, undefined, { ops: tx.ops })
    await this.#evict(tx.released)
    if (!replay) this.#notify(tx.changed, tx.objects)
    return replay
  }

  /** Bytes of the held blocks `blocks` (from their records; read when a record lacks it). */
  async #blockBytes(blocks: HeldBlock[]): Promise<number> {
    let bytes = 0
    for (const held of blocks) {
      bytes += held.size || ((await this.repo.readBlock(held.id))?.blockSize ?? 0)
    }
    return bytes
  }

  /**
   * The storage budget: drops whole chains, lowest rank first, until the held blocks fit
   * in `maxRepoBytes` (see {@link StoreOptions.rank}).
   */
  async #enforceBudget(): Promise<void> {
    let replay = false
    // Down to 90% of the budget, so the next writes do not each pay for a ranking.
    const target = this.#maxRepoBytes * BUDGET_LOW_WATER
    for (const chainId of await this.#chainsByRank()) {
      if (this.#heldBytes <= target) break
      if (await this.#dropChain(chainId)) replay = true
    }
    if (replay) await this.#replay()
  }

  /** Every held chain's id, lowest rank first. */
  async #chainsByRank(): Promise<Uint8Array[]> {
    const chains = await this.repo.listFeeds()
    const ranks = new Map<string, number>()
    if (this.#rank) {
      for (const chain of chains) ranks.set(toHex(chain.chainId), await this.#rank(chain))
    } else {
      // Soonest expiry first: the timers in time order name the objects and slice entries.
      const unranked: Record<string, true> = Object.create(null)
      for (const chain of chains) unranked[toHex(chain.chainId)] = true
      for await (const [, value] of this.#registry.entries(tagRange(TAG.timer))) {
        const [kind, name, id, at] = decode(value) as [StoreTimer['kind'], string, string, number]
        const blockKeys: string[] = []
        if (kind === 'o') {
          const table = this.#tables.get(name)
          const entry = table && (await this.#objectOf(table, id))
          blockKeys.push(...(entry?.blocks ?? []))
        } else if (kind === 'd') {
          const table = this.#tables.get(name)
          const tombstone = table && (await this.#tombstoneOf(table, id))
          if (tombstone) blockKeys.push(tombstone.blockKey)
        } else {
          const entry = this.#slices.get(name)?.entries.get(Number(id))
          if (entry) blockKeys.push(entry.blockKey)
        }
        for (const blockKey of blockKeys) {
          const held = await this.#heldOf(blockKey)
          if (held && held.chain in unranked) {
            delete unranked[held.chain]
            ranks.set(held.chain, at)
          }
        }
        if (ranks.size === chains.length) break
      }
    }
    const rankOf = (chain: ChainSummary) =>
      ranks.get(toHex(chain.chainId)) ?? Number.POSITIVE_INFINITY
    return chains.sort((a, b) => rankOf(a) - rankOf(b)).map((chain) => chain.chainId)
  }

  /** `key` (32 B) as hex; the last one is remembered (a run of blocks has one author). */
  #authorHex(key: Uint8Array): string {
    const last = this.#lastAuthor
    if (last && bytesEqual(last.bytes, key)) {
      return last.hex
    }
    this.#lastAuthor = { bytes: key.slice(), hex: toHex(key) }
    return this.#lastAuthor.hex
  }

  /** Decodes `block` and offers it to its consumers; applies the verdicts in memory. */
  async #applyBlock(
    block: Block,
    held: HeldBlock,
    parentBlock: Block | undefined,
    tx: Tx,
    now: number,
  ): Promise<Verdict> {
    let body: DecodedBody
    try {
      body = this.#codec.decode(block.body)
      if (typeof body?.type !== 'string' || typeof body.date !== 'number') {
        throw new StoreError('STORE_DECODE', 'the codec returned no { type, date }')
      }
    } catch (cause) {
      return { kind: 'stop', code: 'STORE_DECODE', reason: reasonOf(cause) }
    }
    const base = {
      block,
      parentBlock,
      genesis: block.genesis,
      type: body.type,
      payload: body.payload,
      date: body.date,
      AUTHOR: block.key ? this.#authorHex(block.key) : '',
      CHAIN: held.chain,
    }
    const signals: Signal[] = []
    const commits: (() => void)[] = []
    let expired = false
    const consider = (verdict: Verdict): Verdict | undefined => {
      if (verdict.kind === 'stop') return verdict
      if (verdict.kind === 'apply') commits.push(verdict.commit)
      else if (verdict.kind === 'expired') expired = true
      return undefined
    }
    const run = { base, held, tx, now, signals }
    for (const slice of this.#slices.values()) {
      const stop = consider(await this.#decideSlice(slice, run))
      if (stop) return stop
    }
    const table = this.#tables.get(body.type)
    if (table) {
      const stop = consider(await this.#decideObject(table, run))
      if (stop) return stop
    }
    if (commits.length === 0) {
      if (expired) return EXPIRED
      return {
        kind: 'stop',
        code: 'STORE_UNHANDLED',
        reason: `no slice or collection accepted a block of type "${body.type}"`,
      }
    }
    for (const commit of commits) await commit()
    for (const signal of signals) await this.#deliver(signal, run)
    return { kind: 'apply', commit: () => undefined }
  }

  /** A context for one consumer; `outcome` records reject/postpone calls. */
  #context<S>(
    state: S,
    base: BaseContext,
    from: string,
    id: string | undefined,
    signals: Signal[],
  ): BlockContext<S> & { outcome?: Rejection | Postponement } {
    const ctx: BlockContext<S> & { outcome?: Rejection | Postponement } = {
      block: base.block,
      parentBlock: base.parentBlock,
      genesis: base.genesis,
      type: base.type,
      payload: base.payload,
      date: base.date,
      AUTHOR: base.AUTHOR,
      CHAIN: base.CHAIN,
      state,
      root: this.#root,
      reject: (reason) => {
        const rejection = new Rejection(reason === undefined ? 'rejected' : reasonOf(reason))
        ctx.outcome = rejection
        return rejection
      },
      postpone: (ms, reason = 'postponed', retries = 3) => {
        const postponement = new Postponement(Math.max(0, Number(ms) || 0), reason, retries)
        ctx.outcome = postponement
        return postponement
      },
      signal: (type, payload) => {
        signals.push({
          type,
          payload,
          from,
          id,
          AUTHOR: base.AUTHOR,
          CHAIN: base.CHAIN,
          date: base.date,
        })
      },
      lookup: (indexKey, collection = from) =>
        this.#tables.get(collection)?.index.get(normalizeId(indexKey))?.blockId,
    }
    return ctx
  }

  async #decideSlice(slice: SliceState, run: BlockRun): Promise<Verdict> {
    const { spec } = slice
    const own: Signal[] = []
    const ctx = this.#context(slice.value, run.base, spec.name, undefined, own)
    let hook = 'filter'
    try {
      if (spec.filter) {
        let verdict = spec.filter(ctx)
        if (isThenable(verdict)) verdict = await verdict
        const outcome =
          verdict instanceof Rejection || verdict instanceof Postponement ? verdict : ctx.outcome
        if (outcome) return outcomeVerdict(outcome)
        if (verdict === true) return IGNORE
        if (verdict) return { kind: 'stop', code: 'STORE_REJECTED', reason: reasonOf(verdict) }
      }
      hook = 'expiresAt'
      const expiresAt = spec.expiresAt
        ? checkExpiry(spec.expiresAt(ctx), spec.name)
        : Number.POSITIVE_INFINITY
      if (expiresAt <= run.now) return EXPIRED
      hook = 'reducer'
      let next: unknown = spec.reducer(ctx)
      if (isThenable(next)) next = await next
      if (ctx.outcome) return outcomeVerdict(ctx.outcome)
      const encoded = encode([spec.name, next])
      return {
        kind: 'apply',
        commit: () => {
          run.signals.push(...own)
          this.#setSlice(slice, next, encoded, run.tx)
          this.#addEntry(slice, run.held, expiresAt, null, run.tx)
        },
      }
    } catch (cause) {
      return hookFailed(spec.name, hook, cause)
    }
  }

  async #decideObject(table: Table, run: BlockRun): Promise<Verdict> {
    const { memory } = table
    const own: Signal[] = []
    let hook = 'idOf'
    try {
      let rawId = memory.idOf(this.#context(undefined, run.base, memory.name, undefined, own))
      if (isThenable(rawId)) rawId = await rawId
      const id = normalizeId(rawId)
      const current = await this.#objectOf(table, id)
      // An object and its tombstone never coexist: only an absent object has one to read.
      const tombstone = current ? undefined : await this.#tombstoneOf(table, id)
      if (tombstone) {
        // A deleted object's late or re-sent block backs nothing (a link, or refused
        // STORE_EXPIRED at the end of its patch). In a replay the delete block comes
        // again: it backs its tombstone again.
        if (tombstone.blockKey !== run.held.key) return EXPIRED
        return {
          kind: 'apply',
          commit: () => this.#setTombstone(table, id, tombstone.expiresAt, run.held, run.tx),
        }
      }
      const value = current ? current.value : cloneValue(memory.initialValue)
      const indexKeys: string[] = []
      const ctx = Object.assign(this.#context(value, run.base, memory.name, id, own), {
        id,
        index: (indexKey: string | Uint8Array) => {
          indexKeys.push(normalizeId(indexKey))
        },
        delete: () => DELETION,
      }) as ComputeContext & { outcome?: Rejection | Postponement }
      hook = 'compute'
      let next = memory.compute(value, ctx)
      if (isThenable(next)) next = await next
      const outcome = next instanceof Rejection || next instanceof Postponement ? next : ctx.outcome
      if (outcome) return outcomeVerdict(outcome)
      if (next === undefined) return IGNORE
      hook = 'expiresAt'
      if (next instanceof Deletion) {
        // Nothing held to delete: the rule could not be checked against the object.
        if (!current) return EXPIRED
        // Until the object's natural expiry, or the delete block's own if later: no held
        // block of the object can then bring it back.
        const deleteExpiry = checkExpiry(memory.expiresAt(value, ctx), memory.name)
        const until = Math.max(current.expiresAt, deleteExpiry)
        if (until <= run.now) return EXPIRED
        return {
          kind: 'apply',
          commit: async () => {
            run.signals.push(...own)
            await this.#forgetObject(table, id, run.tx)
            this.#setTombstone(table, id, until, run.held, run.tx)
          },
        }
      }
      const expiresAt = checkExpiry(memory.expiresAt(next, ctx), memory.name)
      hook = 'orders'
      const orderKeys = table.orderKeysOf(next, id)
      const write: ObjectWrite = { id, value: next, expiresAt, orderKeys, indexKeys }
      return {
        kind: 'apply',
        commit: () => {
          run.signals.push(...own)
          this.#setObject(table, write, run.held, run.tx)
        },
      }
    } catch (cause) {
      return hookFailed(memory.name, hook, cause)
    }
  }

  /** Hands a signal to every trap; the signalling block backs what they change. */
  async #deliver(signal: Signal, run: BlockRun): Promise<void> {
    const { base, held, tx, now } = run
    for (const slice of this.#slices.values()) {
      const { spec } = slice
      if (!spec.trap) continue
      try {
        const next = spec.trap(signal, slice.value)
        if (next === undefined) continue
        const ctx = this.#context(slice.value, base, spec.name, undefined, [])
        const expiresAt = spec.expiresAt
          ? checkExpiry(spec.expiresAt(ctx), spec.name)
          : Number.POSITIVE_INFINITY
        if (expiresAt <= now) continue
        const encoded = encode([spec.name, next])
        this.#setSlice(slice, next, encoded, tx)
        this.#addEntry(slice, held, expiresAt, signal, tx)
      } catch {
        // A trap runs after its block merged; its failure changes nothing.
      }
    }
    for (const table of this.#tables.values()) {
      const { memory } = table
      if (typeof memory.trap !== 'function') continue
      // The trap names the objects to change; they are read (from disk if need be) after.
      const asked: [string, (value: Payload) => Payload][] = []
      try {
        memory.trap(signal, (rawId, fn) => {
          asked.push([normalizeId(rawId), fn])
        })
      } catch {
        continue // As above: a trap cannot refuse a merged block.
      }
      for (const [id, fn] of asked) {
        try {
          const entry = await this.#objectOf(table, id)
          if (!entry && (await this.#tombstoneOf(table, id))) continue // no undelete by a trap
          const next = fn(entry ? entry.value : cloneValue(memory.initialValue))
          if (next === undefined) continue
          const ctx = Object.assign(this.#context(next, base, memory.name, id, []), {
            id,
            index: () => undefined,
            delete: () => DELETION,
          })
          const expiresAt = checkExpiry(memory.expiresAt(next, ctx), memory.name)
          const orderKeys = table.orderKeysOf(next, id)
          this.#setObject(table, { id, value: next, expiresAt, orderKeys, indexKeys: [] }, held, tx)
        } catch {
          // As above.
        }
      }
    }
  }

  // ---------------------------------------------------------------- state changes (journaled)

  #setSlice(slice: SliceState, next: Payload, encoded: Uint8Array, tx: Tx): void {
    const previous = slice.value
    const name = slice.spec.name
    slice.value = next
    this.#root[name] = next
    tx.journal.push(() => {
      slice.value = previous
      this.#root[name] = previous
    })
    tx.ops.push(this.#registry.putOp(slice.valueKey, encoded))
    tx.changed.add(slice)
  }

  #addEntry(
    slice: SliceState,
    held: HeldBlock,
    expiresAt: number,
    signal: Signal | null,
    tx: Tx,
  ): void {
    const name = slice.spec.name
    const seq = this.#nextEntry++
    slice.entries.set(seq, { seq, blockKey: held.key, blockId: held.id, expiresAt, signal })
    held.refs++
    tx.journal.push(() => {
      slice.entries.delete(seq)
      held.refs--
    })
    this.#heldChanged(held, tx)
    tx.ops.push(
      this.#registry.putOp(
        seqKey(slice.entryPrefix, seq),
        encode([name, seq, held.id, expiresAt, signal]),
      ),
    )
    this.#addTimer({ kind: 'e', name, id: String(seq), at: expiresAt }, tx)
  }

  #timerKey(timer: StoreTimer): Uint8Array {
    return key(TAG.timer, seqPart(timer.at), timer.kind, timer.name, timer.id)
  }

  #addTimer(timer: StoreTimer, tx: Tx): void {
    if (timer.at === Number.POSITIVE_INFINITY) return
    this.#nextTimerAt = Math.min(this.#nextTimerAt, timer.at)
    tx.ops.push(
      this.#registry.putOp(
        this.#timerKey(timer),
        encode([timer.kind, timer.name, timer.id, timer.at]),
      ),
    )
  }

  #delTimer(timer: StoreTimer, tx: Tx): void {
    if (timer.at !== Number.POSITIVE_INFINITY)
      tx.ops.push(this.#registry.delOp(this.#timerKey(timer)))
  }

  /** The object's record: `[collection, id, value, expiresAt, orderKeys, indexKeys]`. */
  #objectOp(table: Table, id: string, entry: ObjectEntry): RegistryOp {
    const name = table.memory.name
    return this.#registry.putOp(
      objectKey(name, id),
      encode([name, id, entry.value, entry.expiresAt, entry.orderKeys, entry.indexKeys]),
    )
  }

  #countOp(table: Table): RegistryOp {
    return this.#registry.putOp(table.countKey, encode(table.count))
  }

  /** Sets object `id` to the change's value; `held` backs it (from now until it goes). */
  #setObject(table: Table, change: ObjectWrite, held: HeldBlock, tx: Tx): void {
    const { id, value: next, expiresAt, orderKeys, indexKeys } = change
    const name = table.memory.name
    const cached = table.cache.get(id)
    const existed = cached !== undefined && cached !== null
    const previous = existed ? { ...cached } : undefined
    const entry: ObjectEntry = existed
      ? cached
      : {
          value: next,
          blocks: new Set(),
          expiresAt: Number.POSITIVE_INFINITY,
          indexKeys: [],
          orderKeys: {},
        }
    const previousSnapshot = table.values[id]
    const addsBlock = !entry.blocks.has(held.key)
    this.#writeOrders(table, id, entry.orderKeys, orderKeys, tx)
    if (expiresAt !== entry.expiresAt) {
      this.#delTimer({ kind: 'o', name, id, at: entry.expiresAt }, tx)
      this.#addTimer({ kind: 'o', name, id, at: expiresAt }, tx)
    }
    const replacedIndex = indexKeys.map((k) => table.index.get(k))
    for (const indexKey of indexKeys) {
      table.index.set(indexKey, { blockId: held.id, id })
      tx.ops.push(
        this.#registry.putOp(key(TAG.index, name, indexKey), encode([name, indexKey, held.id, id])),
      )
    }
    entry.value = next
    entry.expiresAt = expiresAt
    entry.orderKeys = orderKeys
    entry.indexKeys = [...entry.indexKeys, ...indexKeys]
    table.cache.set(id, entry)
    if (table.snapshot) table.values[id] = next
    if (addsBlock) {
      entry.blocks.add(held.key)
      held.refs++
      held.objects.push([name, id])
      this.#heldChanged(held, tx)
      tx.ops.push(
        this.#registry.putOp(key(TAG.backing, name, id, held.id), encode([name, id, held.id])),
      )
    }
    if (!existed) {
      table.count++
      tx.ops.push(this.#countOp(table))
    }
    tx.ops.push(this.#objectOp(table, id, entry))
    tx.touched.set(`${name}\0${id}`, { table, id })
    tx.changed.add(table)
    tx.objectChanged(table, id)
    tx.journal.push(() => {
      if (previous) Object.assign(entry, previous)
      table.cache.set(id, existed ? entry : (cached ?? null))
      if (table.snapshot) {
        if (existed) table.values[id] = previousSnapshot
        else delete table.values[id]
      }
      if (addsBlock) {
        entry.blocks.delete(held.key)
        held.refs--
        held.objects.pop()
      }
      if (!existed) table.count--
      indexKeys.forEach((k, i) => {
        const old = replacedIndex[i]
        if (old) table.index.set(k, old)
        else table.index.delete(k)
      })
    })
  }

  /** Moves object `id` from its `before` keys to its `after` keys in the declared orders. */
  #writeOrders(table: Table, id: string, before: OrderKeys, after: OrderKeys, tx: Tx): void {
    const name = table.memory.name
    for (const [order] of table.orders) {
      const from = before[order]
      const to = after[order]
      if (from === to) continue
      if (from !== undefined)
        tx.ops.push(this.#registry.delOp(orderEntryKey(name, order, from, id)))
      if (to !== undefined) {
        tx.ops.push(this.#registry.putOp(orderEntryKey(name, order, to, id), new Uint8Array(0)))
      }
    }
  }

  /** Forgets object `id`: its value, index keys and timer; its blocks lose one backing. */
  async #forgetObject(table: Table, id: string, tx: Tx): Promise<void> {
    const entry = await this.#objectOf(table, id)
    if (!entry) return
    const name = table.memory.name
    const previousSnapshot = table.values[id]
    table.cache.set(id, null)
    if (table.snapshot) delete table.values[id]
    table.count--
    tx.ops.push(this.#countOp(table))
    this.#writeOrders(table, id, entry.orderKeys, {}, tx)
    tx.objectChanged(table, id)
    const removedIndex: [string, { blockId: Uint8Array; id: string }][] = []
    for (const indexKey of entry.indexKeys) {
      const indexed = table.index.get(indexKey)
      if (indexed?.id !== id) continue
      removedIndex.push([indexKey, indexed])
      table.index.delete(indexKey)
      tx.ops.push(this.#registry.delOp(key(TAG.index, name, indexKey)))
    }
    const heldBlocks: [HeldBlock, number][] = []
    for (const blockKey of entry.blocks) {
      const held = await this.#heldOf(blockKey)
      if (!held) continue
      const at = held.objects.findIndex(([n, i]) => n === name && i === id)
      heldBlocks.push([held, at])
      if (at >= 0) held.objects.splice(at, 1)
      held.refs--
      this.#heldChanged(held, tx)
      if (held.refs === 0) this.#release(held, tx)
      tx.ops.push(this.#registry.delOp(key(TAG.backing, name, id, held.id)))
    }
    this.#delTimer({ kind: 'o', name, id, at: entry.expiresAt }, tx)
    tx.ops.push(this.#registry.delOp(objectKey(name, id)))
    tx.changed.add(table)
    tx.journal.push(() => {
      table.cache.set(id, entry)
      if (table.snapshot) table.values[id] = previousSnapshot
      table.count++
      for (const [indexKey, indexed] of removedIndex) table.index.set(indexKey, indexed)
      for (const [held, at] of heldBlocks.reverse()) {
        held.refs++
        if (at >= 0) held.objects.splice(at, 0, [name, id])
      }
    })
  }

  /** The tombstone of object `id` of `table`, through its cache. */
  async #tombstoneOf(table: Table, id: string): Promise<Tombstone | undefined> {
    const cached = table.tombstones.get(id)
    if (cached !== undefined || this.#replaying) return cached ?? undefined
    const value = await this.#registry.get(tombstoneKey(table.memory.name, id))
    const tombstone = value ? tombstoneFrom(value) : undefined
    table.tombstones.set(id, tombstone ?? null)
    return tombstone
  }

  /** Records that block `held` deleted object `id` until `expiresAt`; the block backs it. */
  #setTombstone(table: Table, id: string, expiresAt: number, held: HeldBlock, tx: Tx): void {
    const name = table.memory.name
    const previous = table.tombstones.get(id)
    table.tombstones.set(id, { blockId: held.id, blockKey: held.key, expiresAt })
    tx.ops.push(
      this.#registry.putOp(tombstoneKey(name, id), encode([name, id, held.id, expiresAt])),
    )
    this.#addTimer({ kind: 'd', name, id, at: expiresAt }, tx)
    held.refs++
    held.objects.push([name, id])
    this.#heldChanged(held, tx)
    tx.changed.add(table)
    tx.journal.push(() => {
      if (previous === undefined) table.tombstones.delete(id)
      else table.tombstones.set(id, previous)
      held.refs--
      held.objects.pop()
    })
  }

  /** The tombstone of object `id` goes (expired, or its block left); its block loses one backing. */
  async #forgetTombstone(table: Table, id: string, tx: Tx): Promise<void> {
    const tombstone = await this.#tombstoneOf(table, id)
    if (!tombstone) return
    const name = table.memory.name
    table.tombstones.set(id, null)
    tx.ops.push(this.#registry.delOp(tombstoneKey(name, id)))
    this.#delTimer({ kind: 'd', name, id, at: tombstone.expiresAt }, tx)
    const held = await this.#heldOf(tombstone.blockKey)
    if (!held) return
    const at = held.objects.findIndex(([n, i]) => n === name && i === id)
    if (at >= 0) held.objects.splice(at, 1)
    held.refs--
    this.#heldChanged(held, tx)
    if (held.refs === 0) this.#release(held, tx)
  }

  /** Removes a slice entry (recomputed later); its block loses one backing. */
  async #forgetEntry(slice: SliceState, entry: SliceEntry, tx: Tx): Promise<void> {
    const name = slice.spec.name
    slice.entries.delete(entry.seq)
    const held = await this.#heldOf(entry.blockKey)
    if (held) {
      held.refs--
      this.#heldChanged(held, tx)
      if (held.refs === 0) this.#release(held, tx)
    }
    this.#delTimer({ kind: 'e', name, id: String(entry.seq), at: entry.expiresAt }, tx)
    tx.ops.push(this.#registry.delOp(seqKey(slice.entryPrefix, entry.seq)))
    tx.recompute.add(slice)
    tx.changed.add(slice)
  }

  /** End of a patch: objects it touched whose value is already expired are forgotten. */
  async #expireTouched(tx: Tx, now: number): Promise<void> {
    for (const { table, id } of [...tx.touched.values()]) {
      const entry = table.cache.get(id)
      if (entry && entry.expiresAt <= now) await this.#forgetObject(table, id, tx)
    }
  }

  // ---------------------------------------------------------------- forgetting

  /**
   * Forgets everything whose expiry is at or before `now` (default: the clock's now):
   * collection objects are deleted, slices recomputed from their remaining blocks, and
   * blocks that back no live state leave the repo (a block leaves only with everything
   * older in its chain). Also drops stale mempool blocks and retries postponed ones. The
   * store's own timer calls this; call it yourself only to force a pass.
   * @throws STORE_CLOSED, STORE_NOT_LOADED; REPO_* when the repo fails
   */
  gc(now?: number): Promise<GcResult> {
    return this.#locked(async () => {
      this.#assertReady()
      const at = now ?? this.#clock.now()
      const tx = new Tx()
      const expired = await this.#collect(at, tx)
      const evicted = await this.#evict(tx.released)
      this.#notify(tx.changed, tx.objects)
      for (const retry of await this.#mempool.due(at)) {
        await this.#dispatchBlocks(retry.blocks, retry.tries, { verified: true })
      }
      return { expired, evicted }
    })
  }

  /**
   * Forgets what is due at `now` (the persisted timers up to it, read in time order) and
   * writes the changes in one batch; returns how many items expired.
   */
  async #collect(now: number, tx: Tx): Promise<number> {
    tx.ops = tx.endOps
    let expired = 0
    const due: StoreTimer[] = []
    const lt = concatBytes(Uint8Array.of(TAG.timer), seqPart(now + 1))
    for await (const [k, value] of this.#registry.entries({ gte: Uint8Array.of(TAG.timer), lt })) {
      const [kind, name, id, at] = decode(value) as [StoreTimer['kind'], string, string, number]
      due.push({ kind, name, id, at })
      tx.ops.push(this.#registry.delOp(k.slice()))
    }
    for (const timer of due) {
      if (timer.kind === 'o') {
        const table = this.#tables.get(timer.name)
        const entry = table && (await this.#objectOf(table, timer.id))
        if (!table || entry?.expiresAt !== timer.at) continue
        await this.#forgetObject(table, timer.id, tx)
      } else if (timer.kind === 'd') {
        const table = this.#tables.get(timer.name)
        const tombstone = table && (await this.#tombstoneOf(table, timer.id))
        if (!table || tombstone?.expiresAt !== timer.at) continue
        await this.#forgetTombstone(table, timer.id, tx)
      } else {
        const slice = this.#slices.get(timer.name)
        const entry = slice?.entries.get(Number(timer.id))
        if (!slice || entry?.expiresAt !== timer.at) continue
        await this.#forgetEntry(slice, entry, tx)
      }
      expired++
    }
    for (const slice of tx.recompute) await this.#recompute(slice, tx)
    if (tx.endOps.length > 0) await this.repo.batch(tx.endOps.splice(0))
    if (due.length > 0 || this.#nextTimerAt <= now) await this.#readNextTimer()
    return expired
  }

  /** Rebuilds a slice from its live entries, in the order they were applied. */
  async #recompute(slice: SliceState, tx: Tx): Promise<void> {
    const { spec } = slice
    let value: Payload = cloneValue(spec.initialValue)
    for (const entry of [...slice.entries.values()]) {
      let keep = true
      if (entry.signal) {
        try {
          const next = spec.trap?.(entry.signal, value)
          if (next !== undefined) value = next
        } catch {
          keep = false
        }
      } else {
        const block = await this.repo.readBlock(entry.blockId)
        keep = false
        if (block) {
          try {
            const body = this.#codec.decode(block.body)
            const parentBlock = block.genesis ? undefined : await this.repo.readBlock(block.psig)
            const ctx = this.#context(
              value,
              {
                block,
                parentBlock,
                genesis: block.genesis,
                type: body.type,
                payload: body.payload,
                date: body.date,
                AUTHOR: block.key ? toHex(block.key) : '',
                CHAIN: (await this.#heldOf(entry.blockKey))?.chain ?? '',
              },
              spec.name,
              undefined,
              [],
            )
            let verdict = spec.filter ? spec.filter(ctx) : undefined
            if (isThenable(verdict)) verdict = await verdict
            if (!verdict && !ctx.outcome) {
              let next = spec.reducer(ctx)
              if (isThenable(next)) next = await next
              value = next
              keep = true
            }
          } catch {
            keep = false
          }
        }
      }
      if (!keep) await this.#forgetEntry(slice, entry, tx)
    }
    this.#setSlice(slice, value, encode([spec.name, value]), tx)
  }

  /**
   * Deletes the dead prefix (blocks backing nothing) of each chain named, reading the
   * chain's held blocks oldest first from its `c` keys.
   */
  async #evict(chains: Map<string, Uint8Array>): Promise<number> {
    let evicted = 0
    for (const [chainKey, chainId] of [...chains]) {
      const dead: HeldBlock[] = []
      const prefix = chainPrefix(chainId)
      for await (const [, id] of this.#registry.entries({ gte: prefix, lt: prefixTop(prefix) })) {
        const held = await this.#heldOf(toHex(id))
        if (held && held.refs > 0) break
        if (held) dead.push(held)
      }
      const ops: RegistryOp[] = [this.#registry.delOp(releasedKey(chainId))]
      if (dead.length === 0) {
        await this.repo.batch(ops)
        continue
      }
      for (const held of dead) {
        ops.push(
          this.#registry.delOp(seqKey(ACCEPTED_PREFIX, held.seq)),
          this.#registry.delOp(heldKey(held.id)),
          this.#registry.delOp(chainBlockKey(chainId, held.seq)),
        )
      }
      const sizes = await this.#blockBytes(dead)
      this.#heldBytes -= sizes
      ops.push(this.#registry.putOp(BYTES_KEY, encode(this.#heldBytes)))
      await this.repo.evictPrefix(chainId, dead[dead.length - 1]!.id, { ops })
      for (const held of dead) this.#held.set(held.key, null)
      const head = this.#heads.get(chainKey)
      if (head && this.#held.get(toHex(head.sig)) === null) this.#heads.delete(chainKey)
      evicted += dead.length
    }
    return evicted
  }

  // ---------------------------------------------------------------- reload

  /**
   * Forgets all state and replays every held block in the order it was first accepted,
   * then forgets what is expired now and evicts blocks that back nothing. Use after
   * changing consensus rules. Blocks the rules now refuse stay out of the state. Costs
   * every held block (read from disk) and memory for every held-block record.
   * @throws STORE_CLOSED, STORE_NOT_LOADED; REPO_* when the repo fails
   */
  reload(): Promise<void> {
    return this.#locked(async () => {
      this.#assertReady()
      await this.#replay()
    })
  }

  /** {@link Store.reload} inside the lock. */
  async #replay(): Promise<void> {
    const now = this.#clock.now()
    const clear: RegistryOp[] = []
    const derived = [
      TAG.slice,
      TAG.entry,
      TAG.object,
      TAG.order,
      TAG.count,
      TAG.backing,
      TAG.index,
      TAG.timer,
      TAG.held,
      TAG.released,
    ]
    for (const tag of derived) {
      for await (const [k] of this.#registry.entries(tagRange(tag))) {
        clear.push(this.#registry.delOp(k.slice()))
      }
    }
    for (const slice of this.#slices.values()) {
      slice.value = cloneValue(slice.spec.initialValue)
      this.#root[slice.spec.name] = slice.value
      slice.entries.clear()
    }
    for (const table of this.#tables.values()) {
      for (const id of Object.keys(table.values)) delete table.values[id]
      table.cache.clear()
      table.tombstones.clear()
      table.count = 0
      table.index.clear()
    }
    // Tombstones stay (the deleted objects' blocks may be gone); each delete block backs
    // its own again when it is replayed.
    for await (const [, value] of this.#registry.entries(tagRange(TAG.tombstone))) {
      const [name, id] = decode(value) as [string, string]
      this.#tables.get(name)?.tombstones.set(id, tombstoneFrom(value))
    }
    this.#held.clear()
    this.#heads.clear()
    this.#nextTimerAt = Number.POSITIVE_INFINITY
    const order: HeldBlock[] = []
    for await (const [, value] of this.#registry.entries(tagRange(TAG.accepted))) {
      const [seq, id, chainId] = decode(value) as [number, Uint8Array, Uint8Array]
      const held: HeldBlock = {
        id,
        key: toHex(id),
        chain: toHex(chainId),
        chainId,
        seq,
        refs: 0,
        objects: [],
        size: 0, // set when the block is read below
      }
      order.push(held)
      this.#held.set(held.key, held)
    }
    const tx = new Tx()
    tx.ops = clear // block ops follow the deletes in the same batch
    const replayed = new Map<string, Block>()
    this.#replaying = true
    try {
      for (const held of order) {
        const block = await this.repo.readBlock(held.id)
        if (!block) continue
        held.size = block.blockSize
        const parentKey = block.genesis ? '' : toHex(block.psig)
        const parent = parentKey
          ? (replayed.get(parentKey) ?? (await this.repo.readBlock(block.psig)))
          : undefined
        replayed.set(held.key, block)
        await this.#applyBlock(block, held, parent, tx, now)
      }
      tx.ops = tx.endOps
      await this.#expireTouched(tx, now)
    } finally {
      this.#replaying = false
    }
    // Every held-block record anew, with what it backs now.
    for (const held of order) {
      clear.push(
        this.#registry.putOp(
          heldKey(held.id),
          encode([held.seq, held.chainId, held.refs, held.objects, held.size]),
        ),
      )
    }
    this.#heldBytes = await this.#blockBytes(order)
    clear.push(this.#registry.putOp(BYTES_KEY, encode(this.#heldBytes)))
    await this.repo.batch([...clear, ...tx.endOps])
    await this.#readNextTimer()
    const chains = new Map(order.map((held) => [held.chain, held.chainId] as const))
    await this.#evict(chains)
    this.#notify([...this.#slices.values(), ...this.#tables.values()])
  }
}

/**
 * A persisted expiry timer: of an object (`o`, id = object id), a slice entry (`e`, id =
 * seq) or a tombstone (`d`, id = object id).
 */
interface StoreTimer {
  at: number
  kind: 'o' | 'e' | 'd'
  name: string
  id: string
}

/** What every decision about one block needs: its context, record, the operation, the time. */
interface BlockRun {
  base: BaseContext
  held: HeldBlock
  tx: Tx
  now: number
  /** Signals raised by the block so far (delivered after it merged). */
  signals: Signal[]
}

/** A held block from its `h` record. */
function heldFrom(id: Uint8Array, blockKey: string, value: Uint8Array): HeldBlock {
  const [seq, chainId, refs, objects, size] = decode(value) as [
    number,
    Uint8Array,
    number,
    [string, string][],
    number | undefined,
  ]
  return { id, key: blockKey, chain: toHex(chainId), chainId, seq, refs, objects, size: size ?? 0 }
}

/** True when `err`, or an error in its `cause` chain, is a `QuotaExceededError` (a full disk). */
function tombstoneFrom(value: Uint8Array): Tombstone {
  const [, , blockId, expiresAt] = decode(value) as [string, string, Uint8Array, number]
  return { blockId, blockKey: toHex(blockId), expiresAt }
}

function isQuotaExceeded(err: unknown): boolean {
  for (let at = err, depth = 0; at && depth < 8; depth++) {
    if ((at as { name?: unknown }).name === 'QuotaExceededError') return true
    at = (at as { cause?: unknown }).cause
  }
  return false
}

function outcomeVerdict(outcome: Rejection | Postponement): Verdict {
  if (outcome instanceof Rejection) {
    return { kind: 'stop', code: 'STORE_REJECTED', reason: outcome.reason }
  }
  return { kind: 'stop', code: 'STORE_POSTPONED', reason: outcome.reason, postpone: outcome }
}
