import { type Block, bytesEqual, Feed, type FeedLike, toHex } from '@picostack/feed'
import {
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
  type Payload,
  Postponement,
  Rejection,
  type Signal,
} from './context.ts'
import { StoreError, type StoreErrorCode } from './errors.ts'
import { key, objectKey, orderEntryKey, seqKey, seqPart, TAG, tagRange } from './layout.ts'
import {
  bindMemory,
  cloneValue,
  type Memory,
  normalizeId,
  type ObjectChange,
  type Observer,
  type SliceHandle,
  type SliceSpec,
} from './memory.ts'
import { DEFAULT_MEMPOOL, Mempool, type MempoolLimits } from './mempool.ts'
import { queryCollection } from './query.ts'
import { TimerHeap } from './timer-heap.ts'

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
}

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

/** What {@link Store} writes for one object change (the value and what derives from it). */
interface ObjectWrite {
  id: string
  value: Payload
  expiresAt: number
  /** `[collection, id, value, expiresAt, orderKeys]` as CBOR: the object's record. */
  encoded: Uint8Array
  orderKeys: OrderKeys
  /** Lookup keys (`ctx.index`) this block adds. */
  indexKeys: string[]
}

/** A collection class for {@link Store.register}: `class extends Memory { ... }`. */
// biome-ignore lint/suspicious/noExplicitAny: a memory class of any value type
export type MemoryClass = new (store: Store, name: string) => Memory<any>

interface HeldBlock {
  id: Uint8Array
  chain: string
  seq: number
  /** How many objects and slice entries this block backs. */
  refs: number
  /**
   * Slice entries kept in this block's accepted record instead of their own keys (the
   * ones that never expire and carry no signal: most of them): `[slice name, entry seq]`.
   */
  inline?: [string, number][]
}

interface Chain {
  id: Uint8Array
  /** Held block keys, oldest first, from `start`. */
  keys: string[]
  start: number
}

interface ObjectMeta {
  blocks: Set<string>
  expiresAt: number
  indexKeys: string[]
  /** The object's key in each order the collection declares (`Memory.orders`). */
  orderKeys: OrderKeys
}

/** An object's key per declared order, by order name. */
type OrderKeys = Record<string, string>

interface SliceEntry {
  seq: number
  blockKey: string
  blockId: Uint8Array
  expiresAt: number
  signal: Signal | null
  /** Persisted in its block's accepted record (else under its own `e` key). */
  inline: boolean
}

interface StoreTimer {
  at: number
  kind: 'o' | 'e'
  name: string
  id: string
}

class SliceState {
  readonly kind = 'slice'
  value: Payload
  readonly entries = new Map<number, SliceEntry>()
  readonly observers = new Set<Observer<Payload>>()
  /** Registry key of the slice's value. */
  readonly valueKey: Uint8Array
  /** Registry key prefix of its entries (the entry's seq follows). */
  readonly entryPrefix: Uint8Array
  constructor(readonly spec: SliceSpec) {
    this.value = cloneValue(spec.initialValue)
    this.valueKey = key(TAG.slice, spec.name)
    this.entryPrefix = key(TAG.entry, spec.name)
  }
}

class Table {
  readonly kind = 'collection'
  values: Record<string, Payload> = Object.create(null)
  readonly meta = new Map<string, ObjectMeta>()
  readonly index = new Map<string, { blockId: Uint8Array; id: string }>()
  readonly observers = new Set<Observer<Payload>>()
  readonly changeObservers = new Set<(change: ObjectChange<Payload>) => void>()
  /** Live objects. */
  count = 0
  /** Declared orders: name and key function. */
  readonly orders: [string, (value: Payload, id: string) => string][]
  constructor(readonly memory: Memory) {
    this.orders = Object.entries(memory.orders ?? {})
  }

  /** The object's key in each declared order. */
  orderKeysOf(value: Payload, id: string): OrderKeys {
    const keys: OrderKeys = {}
    for (const [order, keyOf] of this.orders) {
      const orderKey = keyOf(value, id)
      if (typeof orderKey !== 'string' || orderKey.includes('\0')) {
        throw new StoreError('STORE_REDUCER', `order "${order}" must give a string without NUL`)
      }
      keys[order] = orderKey
    }
    return keys
  }
}

type Consumer = SliceState | Table

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
  | { kind: 'apply'; commit: () => void }

const IGNORE: Verdict = { kind: 'ignore' }
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

/** Changes of one operation: undo journal, registry ops, what to notify and evict. */
class Tx {
  readonly journal: (() => void)[] = []
  ops: RegistryOp[] = []
  readonly endOps: RegistryOp[] = []
  readonly changed = new Set<Consumer>()
  readonly released = new Set<string>()
  readonly touched = new Map<string, { table: Table; id: string }>()
  readonly recompute = new Set<SliceState>()
  /** Objects changed or gone, per collection, for `onChange` observers. */
  readonly objects = new Map<Table, Set<string>>()

  objectChanged(table: Table, id: string): void {
    let ids = this.objects.get(table)
    if (!ids) this.objects.set(table, (ids = new Set()))
    ids.add(id)
  }

  undoTo(mark: number): void {
    while (this.journal.length > mark) this.journal.pop()!()
  }
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
const ACCEPTED_PREFIX = Uint8Array.of(TAG.accepted)

/**
 * The state engine: turns blocks into application state (slices and collections), decides
 * which blocks are valid (input consensus), keeps state a function of the blocks held
 * (output consensus), and forgets on persisted timers. See the package README.
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
  readonly #mempool: Mempool
  readonly #slices = new Map<string, SliceState>()
  readonly #tables = new Map<string, Table>()
  readonly #root: Record<string, unknown> = Object.create(null)
  readonly #held = new Map<string, HeldBlock>()
  readonly #chains = new Map<string, Chain>()
  readonly #timers = new TimerHeap<StoreTimer>()
  /** The newest block written to each chain (one per chain). */
  readonly #heads = new Map<string, Block>()
  #nextSeq = 1
  #nextEntry = 1
  #loaded = false
  #closed = false
  #queue: Promise<unknown> = Promise.resolve()
  #timer: unknown
  #armedAt = Number.POSITIVE_INFINITY
  #lastAuthor: { bytes: Uint8Array; hex: string } | undefined

  /**
   * @param repoOrDb - a {@link Repo}, or an abstract-level database to open one on (the
   *   store then closes it on {@link Store.close})
   * @param options - codec, clock, mempool limits, merge strategy
   * @throws REPO_INVALID_INPUT when `repoOrDb` is neither
   */
  constructor(
    // biome-ignore lint/suspicious/noExplicitAny: any abstract-level database
    repoOrDb: Repo | AbstractLevel<any, any, any>,
    options: StoreOptions = {},
  ) {
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
      this.#root[name] = table.values
      const orders = table.orders.map(([order]) => order)
      bindMemory(instance, {
        get values() {
          return table.values
        },
        subscribe: (fn) => this.#subscribe(table, fn),
        get: async (id) => {
          this.#assertReady()
          return table.values[id]
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

  /** Every slice's value and every collection's objects, by name (read-only). */
  get state(): Readonly<Record<string, unknown>> {
    return this.#root
  }

  /**
   * Calls `fn` with the current value of slice or collection `name` now and after each
   * change; returns the unsubscribe function (a Svelte-compatible store contract).
   * @throws STORE_INVALID_SLICE when nothing is registered under `name`
   */
  on<S = Payload>(name: string, fn: Observer<S>): () => void {
    const consumer = this.#slices.get(name) ?? this.#tables.get(name)
    if (!consumer) throw new StoreError('STORE_INVALID_SLICE', `nothing registered as "${name}"`)
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
      for (const id of ids) {
        const change = { id, value: table.values[id] }
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

  /** Runs `task` under this store's lock, then re-arms the expiry timer. */
  #locked<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(async () => {
      if (this.#closed) throw new StoreError('STORE_CLOSED', 'the store is closed')
      try {
        return await task()
      } finally {
        this.#arm()
      }
    })
    this.#queue = run.catch(() => undefined)
    return run
  }

  /** Resolves when every operation queued so far (dispatch, timer-driven gc...) is done. */
  async idle(): Promise<void> {
    for (let queue = this.#queue; ; queue = this.#queue) {
      await queue
      if (queue === this.#queue) return
    }
  }

  /**
   * Restores state, timers and the mempool from the repo, forgets what expired while the
   * store was closed, and arms the expiry timer. Calling it again does nothing.
   * @throws STORE_CLOSED after close; REPO_* when the repo fails
   */
  load(): Promise<void> {
    return this.#locked(async () => {
      if (this.#loaded) return
      await this.#readRegistry()
      await this.#mempool.load()
      await this.#mempool.remove([...this.#mempool.keys()].filter((k) => this.#held.has(k)))
      this.#loaded = true
      const tx = new Tx()
      await this.#collect(this.#clock.now(), tx)
      await this.#evict(this.#chains.keys())
      this.#notify([...this.#slices.values(), ...this.#tables.values()])
    })
  }

  async #readRegistry(): Promise<void> {
    const entries = async (tag: number, fn: (value: unknown[]) => void) => {
      for await (const [, value] of this.#registry.entries(tagRange(tag))) {
        fn(decode(value) as unknown[])
      }
    }
    const loaded: { slice: SliceState; entry: SliceEntry; held: HeldBlock }[] = []
    await entries(TAG.accepted, ([seq, id, chainId, inline]) => {
      const blockKey = toHex(id as Uint8Array)
      const chainKey = toHex(chainId as Uint8Array)
      const held: HeldBlock = { id: id as Uint8Array, chain: chainKey, seq: seq as number, refs: 0 }
      this.#held.set(blockKey, held)
      this.#chainFor(chainKey, chainId as Uint8Array).keys.push(blockKey)
      this.#nextSeq = Math.max(this.#nextSeq, (seq as number) + 1)
      for (const [name, entrySeq] of (inline as [string, number][] | undefined) ?? []) {
        const slice = this.#slices.get(name)
        ;(held.inline ??= []).push([name, entrySeq])
        if (!slice) continue
        const entry: SliceEntry = {
          seq: entrySeq,
          blockKey,
          blockId: held.id,
          expiresAt: Number.POSITIVE_INFINITY,
          signal: null,
          inline: true,
        }
        loaded.push({ slice, entry, held })
      }
    })
    await entries(TAG.slice, ([name, value]) => {
      const slice = this.#slices.get(name as string)
      if (slice) this.#root[slice.spec.name] = slice.value = value
    })
    await entries(TAG.entry, ([name, seq, blockId, expiresAt, signal]) => {
      const slice = this.#slices.get(name as string)
      const blockKey = toHex(blockId as Uint8Array)
      const held = this.#held.get(blockKey)
      if (!slice || !held) return
      const entry: SliceEntry = {
        seq: seq as number,
        blockKey,
        blockId: blockId as Uint8Array,
        expiresAt: expiresAt as number,
        signal: signal as Signal | null,
        inline: false,
      }
      loaded.push({ slice, entry, held })
    })
    // Entries in the order they were made (a slice is recomputed in that order).
    loaded.sort((a, b) => a.entry.seq - b.entry.seq)
    for (const { slice, entry, held } of loaded) {
      held.refs++
      slice.entries.set(entry.seq, entry)
      this.#nextEntry = Math.max(this.#nextEntry, entry.seq + 1)
    }
    await entries(TAG.object, ([name, id, value, expiresAt, orderKeys]) => {
      const table = this.#tables.get(name as string)
      if (!table) return
      table.values[id as string] = value
      table.count++
      table.meta.set(id as string, {
        blocks: new Set(),
        expiresAt: expiresAt as number,
        indexKeys: [],
        orderKeys: (orderKeys as OrderKeys | undefined) ?? {},
      })
    })
    await entries(TAG.backing, ([name, id, blockId]) => {
      const meta = this.#tables.get(name as string)?.meta.get(id as string)
      const blockKey = toHex(blockId as Uint8Array)
      const held = this.#held.get(blockKey)
      if (!meta || !held || meta.blocks.has(blockKey)) return
      meta.blocks.add(blockKey)
      held.refs++
    })
    await entries(TAG.index, ([name, indexKey, blockId, id]) => {
      const table = this.#tables.get(name as string)
      const meta = table?.meta.get(id as string)
      if (!table || !meta) return
      table.index.set(indexKey as string, { blockId: blockId as Uint8Array, id: id as string })
      meta.indexKeys.push(indexKey as string)
    })
    await entries(TAG.timer, ([kind, name, id, at]) => {
      this.#timers.push({
        kind: kind as 'o' | 'e',
        name: name as string,
        id: id as string,
        at: at as number,
      })
    })
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

  // ---------------------------------------------------------------- timer

  /** Arms the one real timer for the earliest expiry or mempool deadline. */
  #arm(): void {
    if (this.#closed || !this.#loaded) return
    const next = Math.min(
      this.#timers.peek()?.at ?? Number.POSITIVE_INFINITY,
      this.#mempool.nextDeadline(),
    )
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
    placement: { chainId?: Uint8Array; height?: number; verified: boolean },
  ): Promise<{ merged: Block[]; stop?: Stop; chainId?: Uint8Array }> {
    const now = this.#clock.now()
    await this.#replaceClaim(blocks[0], placement.verified)
    // Block ids as hex, made once per block and reused below.
    let keys = blocks.map((b) => toHex(b.sig))
    let lastHeld = -1
    for (let i = keys.length - 1; i >= 0; i--) {
      if (this.#held.has(keys[i]!)) {
        lastHeld = i
        break
      }
    }
    let fresh = lastHeld === blocks.length - 1 ? [] : blocks.slice(lastHeld + 1)
    keys = keys.slice(lastHeld + 1)
    if (lastHeld === blocks.length - 1) {
      // Nothing after the newest held block: what comes before it lies in an evicted prefix.
      const end = blocks.findIndex((b) => this.#held.has(toHex(b.sig)))
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
    const orphan = parentKey !== '' && !this.#held.has(parentKey)
    const { chainId, height } = placement
    const partial =
      orphan && chainId?.length === 64 && !this.#chains.has(toHex(chainId)) ? chainId : undefined
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
    const head = parentKey ? this.#heads.get(this.#held.get(parentKey)?.chain ?? '') : undefined
    const cached = head && toHex(head.sig) === parentKey ? head : undefined
    const parentBlock =
      !parentKey || partial ? undefined : (cached ?? (await this.repo.readBlock(first.psig)))

    const tx = new Tx()
    const pending: Pending[] = []
    let stop: Stop | undefined
    let parent = parentBlock
    // The blocks link, so they all go to the chain of the first one.
    let chainKey = keys[0]!
    if (parentKey && !partial) chainKey = this.#held.get(parentKey)!.chain
    else if (partial) chainKey = toHex(partial)
    for (const [index, block] of fresh.entries()) {
      const blockKey = keys[index]!
      const held: HeldBlock = { id: block.sig, chain: chainKey, seq: this.#nextSeq, refs: 0 }
      const record: Pending = { block, key: blockKey, held, ops: [], mark: tx.journal.length }
      tx.ops = record.ops
      const verdict = await this.#applyBlock(block, blockKey, held, parent, tx, now)
      if (verdict.kind === 'stop') {
        stop = { code: verdict.code, reason: verdict.reason, index, postpone: verdict.postpone }
        break
      }
      this.#nextSeq++
      this.#hold(blockKey, held, index === 0 ? (partial ?? block.sig) : undefined)
      record.ops.push(this.#acceptedOp(held))
      pending.push(record)
      parent = block
    }
    stop ??= forged

    tx.ops = tx.endOps
    this.#expireTouched(tx, now)
    // Trailing blocks that back nothing arrived expired: they are not stored.
    let trimmedFrom = pending.length
    while (pending.length > 0 && pending[pending.length - 1]!.held.refs === 0) {
      const dropped = pending.pop()!
      this.#unhold(dropped.key, dropped.held)
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
      const writes = pending.map((record, i) => ({
        block: record.block,
        ops: i === last ? [...record.ops, ...tx.endOps] : record.ops,
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
      for (const undone of pending.slice(written).reverse()) this.#unhold(undone.key, undone.held)
      const unverified = (cause as { code?: string } | undefined)?.code === 'REPO_UNVERIFIED'
      stop = {
        code: unverified ? 'STORE_INVALID_PATCH' : 'STORE_WRITE',
        reason: cause ? `the repo refused it: ${reasonOf(cause)}` : 'the repo refused the block',
        index: written,
      }
    }
    const merged = pending.slice(0, written).map((record) => record.block)
    // Read before eviction below, which may drop a chain whose blocks all arrived expired.
    const mergedChain = merged.length > 0 ? this.#chains.get(pending[0]!.held.chain)?.id : undefined
    // A chain's newest block is the likely parent of its next patch: keep it at hand.
    if (merged.length > 0) {
      const last = pending[merged.length - 1]!
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
      for (const chainKey of gcTx.released) tx.released.add(chainKey)
      for (const consumer of gcTx.changed) tx.changed.add(consumer)
    }
    // Links (expired blocks kept for later live ones) at the start of a chain go at once.
    for (const record of pending.slice(0, merged.length)) {
      if (record.held.refs === 0) tx.released.add(record.held.chain)
    }
    await this.#evict(tx.released)
    this.#notify(tx.changed, tx.objects)
    return { merged, stop, chainId: mergedChain }
  }

  /**
   * When `first` is a genesis and this store holds a partial chain under its id (one that
   * a sender only claimed), the genuine genesis wins: the claimed chain's blocks leave the
   * repo and the state they backed is forgotten, before the genesis is applied. Nothing
   * happens for a forged genesis, or when the chain was started by its genesis.
   */
  async #replaceClaim(first: Block | undefined, verified: boolean): Promise<void> {
    if (!first?.genesis) return
    const chainKey = toHex(first.sig)
    const chain = this.#chains.get(chainKey)
    if (!chain || this.#held.has(chainKey)) return
    if ((await this.repo.summary(chain.id))?.proven !== false) return
    if (!verified && (await verifyBlocks([first])) !== 1) return
    const dropped = new Set(chain.keys.slice(chain.start))
    const tx = new Tx()
    let replay = false
    for (const slice of this.#slices.values()) {
      for (const entry of [...slice.entries.values()]) {
        if (dropped.has(entry.blockKey)) this.#forgetEntry(slice, entry, tx)
      }
    }
    for (const table of this.#tables.values()) {
      for (const [id, meta] of [...table.meta]) {
        let backedHere = false
        let backedElsewhere = false
        for (const blockKey of meta.blocks) {
          if (dropped.has(blockKey)) backedHere = true
          else backedElsewhere = true
        }
        if (!backedHere) continue
        // Also backed by blocks that stay: its value is recomputed by a replay below.
        if (backedElsewhere) replay = true
        this.#forgetObject(table, id, tx)
      }
    }
    for (const blockKey of dropped) {
      tx.ops.push(this.#registry.delOp(key(TAG.accepted, seqPart(this.#held.get(blockKey)!.seq))))
      this.#held.delete(blockKey)
      tx.released.delete(chainKey)
    }
    this.#chains.delete(chainKey)
    this.#heads.delete(chainKey)
    for (const slice of tx.recompute) await this.#recompute(slice, tx)
    await this.repo.rollback(chain.id, undefined, { ops: tx.ops })
    await this.#evict(tx.released)
    if (replay) await this.#replay()
    else this.#notify(tx.changed, tx.objects)
  }

  /**
   * The accepted record of a held block: `[seq, id, chainId, inline entries]`, under its
   * seq (so `load()` reads blocks in the order they were accepted).
   */
  #acceptedOp(held: HeldBlock): RegistryOp {
    const chainId = this.#chains.get(held.chain)!.id
    return this.#registry.putOp(
      seqKey(ACCEPTED_PREFIX, held.seq),
      encode([held.seq, held.id, chainId, held.inline ?? []]),
    )
  }

  #chainFor(chainKey: string, id: Uint8Array): Chain {
    let chain = this.#chains.get(chainKey)
    if (!chain) {
      chain = { id, keys: [], start: 0 }
      this.#chains.set(chainKey, chain)
    }
    return chain
  }

  #hold(blockKey: string, held: HeldBlock, chainId: Uint8Array | undefined): void {
    this.#held.set(blockKey, held)
    this.#chainFor(held.chain, chainId ?? this.#chains.get(held.chain)!.id).keys.push(blockKey)
  }

  /** Takes back the newest held block of its chain (it was not written). */
  #unhold(blockKey: string, held: HeldBlock): void {
    this.#held.delete(blockKey)
    const chain = this.#chains.get(held.chain)
    if (!chain) return
    chain.keys.pop()
    if (chain.keys.length <= chain.start) this.#chains.delete(held.chain)
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
    blockKey: string,
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
    for (const slice of this.#slices.values()) {
      const stop = consider(await this.#decideSlice(slice, base, held, blockKey, tx, now, signals))
      if (stop) return stop
    }
    const table = this.#tables.get(body.type)
    if (table) {
      const stop = consider(await this.#decideObject(table, base, held, blockKey, tx, signals))
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
    for (const commit of commits) commit()
    for (const signal of signals) this.#deliver(signal, base, held, blockKey, tx, now)
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

  async #decideSlice(
    slice: SliceState,
    base: BaseContext,
    held: HeldBlock,
    blockKey: string,
    tx: Tx,
    now: number,
    signals: Signal[],
  ): Promise<Verdict> {
    const { spec } = slice
    const own: Signal[] = []
    const ctx = this.#context(slice.value, base, spec.name, undefined, own)
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
      if (expiresAt <= now) return EXPIRED
      hook = 'reducer'
      let next: unknown = spec.reducer(ctx)
      if (isThenable(next)) next = await next
      if (ctx.outcome) return outcomeVerdict(ctx.outcome)
      const encoded = encode([spec.name, next])
      return {
        kind: 'apply',
        commit: () => {
          signals.push(...own)
          this.#setSlice(slice, next, encoded, tx)
          this.#addEntry(slice, held, blockKey, expiresAt, null, tx)
        },
      }
    } catch (cause) {
      return hookFailed(spec.name, hook, cause)
    }
  }

  async #decideObject(
    table: Table,
    base: BaseContext,
    held: HeldBlock,
    blockKey: string,
    tx: Tx,
    signals: Signal[],
  ): Promise<Verdict> {
    const { memory } = table
    const own: Signal[] = []
    let hook = 'idOf'
    try {
      let rawId = memory.idOf(this.#context(undefined, base, memory.name, undefined, own))
      if (isThenable(rawId)) rawId = await rawId
      const id = normalizeId(rawId)
      const value = id in table.values ? table.values[id] : cloneValue(memory.initialValue)
      const indexKeys: string[] = []
      const ctx = Object.assign(this.#context(value, base, memory.name, id, own), {
        id,
        index: (indexKey: string | Uint8Array) => {
          indexKeys.push(normalizeId(indexKey))
        },
      }) as ComputeContext & { outcome?: Rejection | Postponement }
      hook = 'compute'
      let next = memory.compute(value, ctx)
      if (isThenable(next)) next = await next
      const outcome = next instanceof Rejection || next instanceof Postponement ? next : ctx.outcome
      if (outcome) return outcomeVerdict(outcome)
      if (next === undefined) return IGNORE
      hook = 'expiresAt'
      const expiresAt = checkExpiry(memory.expiresAt(next, ctx), memory.name)
      hook = 'orders'
      const orderKeys = table.orderKeysOf(next, id)
      const encoded = encode([memory.name, id, next, expiresAt, orderKeys])
      return {
        kind: 'apply',
        commit: () => {
          signals.push(...own)
          const change = { id, value: next, expiresAt, encoded, orderKeys, indexKeys }
          this.#setObject(table, change, held, blockKey, tx)
        },
      }
    } catch (cause) {
      return hookFailed(memory.name, hook, cause)
    }
  }

  /** Hands a signal to every trap; the signalling block backs what they change. */
  #deliver(
    signal: Signal,
    base: BaseContext,
    held: HeldBlock,
    blockKey: string,
    tx: Tx,
    now: number,
  ): void {
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
        this.#addEntry(slice, held, blockKey, expiresAt, signal, tx)
      } catch {
        // A trap runs after its block merged; its failure changes nothing.
      }
    }
    for (const table of this.#tables.values()) {
      const { memory } = table
      if (typeof memory.trap !== 'function') continue
      try {
        memory.trap(signal, (rawId, fn) => {
          const id = normalizeId(rawId)
          const current = id in table.values ? table.values[id] : cloneValue(memory.initialValue)
          const next = fn(current)
          if (next === undefined) return
          const ctx = Object.assign(this.#context(next, base, memory.name, id, []), {
            id,
            index: () => undefined,
          })
          const expiresAt = checkExpiry(memory.expiresAt(next, ctx), memory.name)
          const orderKeys = table.orderKeysOf(next, id)
          const encoded = encode([memory.name, id, next, expiresAt, orderKeys])
          const change = { id, value: next, expiresAt, encoded, orderKeys, indexKeys: [] }
          this.#setObject(table, change, held, blockKey, tx)
        })
      } catch {
        // As above: a trap cannot refuse a merged block.
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
    blockKey: string,
    expiresAt: number,
    signal: Signal | null,
    tx: Tx,
  ): void {
    const name = slice.spec.name
    const seq = this.#nextEntry++
    // An entry that never expires and carries no signal goes in its block's accepted
    // record (written with the block), not under a key of its own.
    const inline = expiresAt === Number.POSITIVE_INFINITY && signal === null
    slice.entries.set(seq, { seq, blockKey, blockId: held.id, expiresAt, signal, inline })
    held.refs++
    if (inline) (held.inline ??= []).push([name, seq])
    tx.journal.push(() => {
      slice.entries.delete(seq)
      held.refs--
      if (inline) held.inline!.pop()
    })
    if (inline) return
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
    this.#timers.push(timer)
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

  #setObject(table: Table, change: ObjectWrite, held: HeldBlock, blockKey: string, tx: Tx): void {
    const { id, value: next, expiresAt, encoded, orderKeys, indexKeys } = change
    const name = table.memory.name
    const existed = id in table.values
    const previous = table.values[id]
    let meta = table.meta.get(id)
    const newMeta = meta === undefined
    if (!meta) {
      const fresh = { blocks: new Set<string>(), expiresAt: Number.POSITIVE_INFINITY }
      meta = { ...fresh, indexKeys: [], orderKeys: {} }
      table.meta.set(id, meta)
    }
    const m = meta
    const previousExpiry = m.expiresAt
    const previousOrderKeys = m.orderKeys
    this.#writeOrders(table, id, previousOrderKeys, orderKeys, tx)
    m.orderKeys = orderKeys
    if (!existed) table.count++
    const addsBlock = !m.blocks.has(blockKey)
    table.values[id] = next
    if (addsBlock) {
      m.blocks.add(blockKey)
      held.refs++
      tx.ops.push(
        this.#registry.putOp(key(TAG.backing, name, id, held.id), encode([name, id, held.id])),
      )
    }
    if (expiresAt !== previousExpiry) {
      this.#delTimer({ kind: 'o', name, id, at: previousExpiry }, tx)
      this.#addTimer({ kind: 'o', name, id, at: expiresAt }, tx)
      m.expiresAt = expiresAt
    }
    const replacedIndex = indexKeys.map((k) => table.index.get(k))
    for (const indexKey of indexKeys) {
      table.index.set(indexKey, { blockId: held.id, id })
      m.indexKeys.push(indexKey)
      tx.ops.push(
        this.#registry.putOp(key(TAG.index, name, indexKey), encode([name, indexKey, held.id, id])),
      )
    }
    tx.ops.push(this.#registry.putOp(objectKey(name, id), encoded))
    tx.touched.set(`${name}\0${id}`, { table, id })
    tx.changed.add(table)
    tx.objectChanged(table, id)
    tx.journal.push(() => {
      if (existed) table.values[id] = previous
      else {
        delete table.values[id]
        table.count--
      }
      m.orderKeys = previousOrderKeys
      if (newMeta) table.meta.delete(id)
      if (addsBlock) {
        m.blocks.delete(blockKey)
        held.refs--
      }
      m.expiresAt = previousExpiry
      m.indexKeys.length -= indexKeys.length
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
  #forgetObject(table: Table, id: string, tx: Tx): void {
    const meta = table.meta.get(id)
    if (!meta) return
    const name = table.memory.name
    const value = table.values[id]
    delete table.values[id]
    table.meta.delete(id)
    table.count--
    this.#writeOrders(table, id, meta.orderKeys, {}, tx)
    tx.objectChanged(table, id)
    const removedIndex: [string, { blockId: Uint8Array; id: string }][] = []
    for (const indexKey of meta.indexKeys) {
      const entry = table.index.get(indexKey)
      if (entry?.id !== id) continue
      removedIndex.push([indexKey, entry])
      table.index.delete(indexKey)
      tx.ops.push(this.#registry.delOp(key(TAG.index, name, indexKey)))
    }
    const heldBlocks: HeldBlock[] = []
    for (const blockKey of meta.blocks) {
      const held = this.#held.get(blockKey)
      if (!held) continue
      heldBlocks.push(held)
      held.refs--
      if (held.refs === 0) tx.released.add(held.chain)
      tx.ops.push(this.#registry.delOp(key(TAG.backing, name, id, held.id)))
    }
    this.#delTimer({ kind: 'o', name, id, at: meta.expiresAt }, tx)
    tx.ops.push(this.#registry.delOp(objectKey(name, id)))
    tx.changed.add(table)
    tx.journal.push(() => {
      table.values[id] = value
      table.meta.set(id, meta)
      table.count++
      for (const [indexKey, entry] of removedIndex) table.index.set(indexKey, entry)
      for (const held of heldBlocks) held.refs++
    })
  }

  /** Removes a slice entry (recomputed later); its block loses one backing. */
  #forgetEntry(slice: SliceState, entry: SliceEntry, tx: Tx): void {
    const name = slice.spec.name
    slice.entries.delete(entry.seq)
    const held = this.#held.get(entry.blockKey)
    if (held) {
      held.refs--
      if (held.refs === 0) tx.released.add(held.chain)
    }
    if (entry.inline) {
      if (held?.inline) {
        held.inline = held.inline.filter(([, seq]) => seq !== entry.seq)
        tx.ops.push(this.#acceptedOp(held))
      }
    } else {
      this.#delTimer({ kind: 'e', name, id: String(entry.seq), at: entry.expiresAt }, tx)
      tx.ops.push(this.#registry.delOp(seqKey(slice.entryPrefix, entry.seq)))
    }
    tx.recompute.add(slice)
    tx.changed.add(slice)
  }

  /** End of a patch: objects it touched whose value is already expired are forgotten. */
  #expireTouched(tx: Tx, now: number): void {
    for (const { table, id } of tx.touched.values()) {
      const meta = table.meta.get(id)
      if (meta && meta.expiresAt <= now) this.#forgetObject(table, id, tx)
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

  /** Forgets what is due at `now` and writes the changes; returns how many items expired. */
  async #collect(now: number, tx: Tx): Promise<number> {
    tx.ops = tx.endOps
    let expired = 0
    for (let timer = this.#timers.peek(); timer && timer.at <= now; timer = this.#timers.peek()) {
      this.#timers.pop()
      if (timer.kind === 'o') {
        const table = this.#tables.get(timer.name)
        const meta = table?.meta.get(timer.id)
        if (!table || meta?.expiresAt !== timer.at) continue
        this.#forgetObject(table, timer.id, tx)
      } else {
        const slice = this.#slices.get(timer.name)
        const entry = slice?.entries.get(Number(timer.id))
        if (!slice || entry?.expiresAt !== timer.at) continue
        this.#forgetEntry(slice, entry, tx)
      }
      expired++
    }
    for (const slice of tx.recompute) await this.#recompute(slice, tx)
    if (tx.endOps.length > 0) await this.repo.batch(tx.endOps.splice(0))
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
                CHAIN: this.#held.get(entry.blockKey)?.chain ?? '',
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
      if (!keep) this.#forgetEntry(slice, entry, tx)
    }
    this.#setSlice(slice, value, encode([spec.name, value]), tx)
  }

  /** Deletes the dead prefix (blocks backing nothing) of each chain named. */
  async #evict(chainKeys: Iterable<string>): Promise<number> {
    let evicted = 0
    for (const chainKey of [...chainKeys]) {
      const chain = this.#chains.get(chainKey)
      if (!chain) continue
      let end = chain.start
      while (end < chain.keys.length && this.#held.get(chain.keys[end]!)!.refs === 0) end++
      if (end === chain.start) continue
      const dead = chain.keys.slice(chain.start, end)
      const ops = dead.map((k) =>
        this.#registry.delOp(key(TAG.accepted, seqPart(this.#held.get(k)!.seq))),
      )
      await this.repo.evictPrefix(chain.id, this.#held.get(dead[dead.length - 1]!)!.id, { ops })
      for (const k of dead) this.#held.delete(k)
      evicted += dead.length
      chain.start = end
      if (end === chain.keys.length) {
        this.#chains.delete(chainKey)
        this.#heads.delete(chainKey)
      } else if (end > 64 && end * 2 > chain.keys.length) {
        chain.keys = chain.keys.slice(end)
        chain.start = 0
      }
    }
    return evicted
  }

  // ---------------------------------------------------------------- reload

  /**
   * Forgets all state and replays every held block in the order it was first accepted,
   * then forgets what is expired now and evicts blocks that back nothing. Use after
   * changing consensus rules. Blocks the rules now refuse stay out of the state.
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
    const derived = [TAG.slice, TAG.entry, TAG.object, TAG.order, TAG.backing, TAG.index, TAG.timer]
    for (const tag of derived) {
      for await (const [k] of this.#registry.entries(tagRange(tag))) {
        clear.push(this.#registry.delOp(new Uint8Array([...k])))
      }
    }
    for (const slice of this.#slices.values()) {
      slice.value = cloneValue(slice.spec.initialValue)
      this.#root[slice.spec.name] = slice.value
      slice.entries.clear()
    }
    for (const table of this.#tables.values()) {
      for (const id of Object.keys(table.values)) delete table.values[id]
      table.count = 0
      table.meta.clear()
      table.index.clear()
    }
    this.#timers.clear()
    const order = [...this.#held.entries()].sort((a, b) => a[1].seq - b[1].seq)
    for (const [, held] of order) {
      held.refs = 0
      held.inline = undefined
    }
    const tx = new Tx()
    tx.ops = clear // block ops follow the deletes in the same batch
    const replayed = new Map<string, Block>()
    for (const [blockKey, held] of order) {
      const block = await this.repo.readBlock(held.id)
      if (!block) continue
      const parentKey = block.genesis ? '' : toHex(block.psig)
      const parent = parentKey
        ? (replayed.get(parentKey) ?? (await this.repo.readBlock(block.psig)))
        : undefined
      replayed.set(blockKey, block)
      await this.#applyBlock(block, blockKey, held, parent, tx, now)
    }
    // Accepted records carry the blocks' entries that never expire: write them anew.
    for (const [, held] of order) clear.push(this.#acceptedOp(held))
    tx.ops = tx.endOps
    this.#expireTouched(tx, now)
    await this.repo.batch([...clear, ...tx.endOps])
    await this.#evict(this.#chains.keys())
    this.#notify([...this.#slices.values(), ...this.#tables.values()])
  }
}

function outcomeVerdict(outcome: Rejection | Postponement): Verdict {
  if (outcome instanceof Rejection) {
    return { kind: 'stop', code: 'STORE_REJECTED', reason: outcome.reason }
  }
  return { kind: 'stop', code: 'STORE_POSTPONED', reason: outcome.reason, postpone: outcome }
}
