import { type Block, Feed, type FeedLike } from '@picostack/feed'
import { Repo } from '@picostack/repo'
import type { AbstractLevel } from 'abstract-level'
import { cborBlockCodec } from './body-codec.ts'
import { readRegistry } from './boot.ts'
import { systemClock } from './clock.ts'
import { Consumers } from './consumers.ts'
import type { Payload } from './context.ts'
import { type Core, trimCaches } from './core.ts'
import type { Patch } from './dispatch.ts'
import { StoreError } from './errors.ts'
import { collect, evict } from './forget.ts'
import { dispatchBlocks, dispatchGroup } from './group.ts'
import { heldMany } from './held.ts'
import { Lock } from './lock.ts'
import type { Memory, Observer, SliceHandle, SliceSpec, StoreHost } from './memory.ts'
import { DEFAULT_MEMPOOL, Mempool } from './mempool.ts'
import { readObject } from './objects.ts'
import {
  DEFAULT_CACHE_OBJECTS,
  type DispatchOptions,
  type DispatchResult,
  type GcResult,
  type Refusal,
  type StoreOptions,
} from './options.ts'
import { queryCollection } from './query.ts'
import { replay } from './replay.ts'
import { ExpiryTimer } from './timer.ts'
import { Tx } from './tx.ts'
import { reasonOf } from './verdict.ts'

export {
  DEFAULT_CACHE_OBJECTS,
  type DispatchOptions,
  type DispatchResult,
  type GcResult,
  type Refusal,
  type StoreOptions,
} from './options.ts'

/** A collection class for {@link Store.register}: `class extends Memory { ... }`. */
// biome-ignore lint/suspicious/noExplicitAny: a memory class of any value type
export type MemoryClass = new (store: Store, name: string) => Memory<any>

/** Patches one lock turn takes at most (group.ts writes them in groups of whole blocks). */
const MAX_QUEUED_PATCHES = 256

/** A patch waiting for the store's lock, with its caller's promise. */
interface Queued extends Patch {
  resolve(result: DispatchResult): void
  reject(error: unknown): void
}

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
 * never wait for each other. Patches dispatched while the store is busy wait together and
 * are applied in one lock turn, as groups with one repo write each (group.ts), in call
 * order, each with the result it would have alone. This class is the lifecycle and the
 * entry points; the work is done by the modules (dispatch.ts, group.ts, forget.ts,
 * replay.ts, ...) acting on one shared core (core.ts).
 */
export class Store implements StoreHost {
  /** The repo holding the blocks and the store's registry (`registry('store')`). */
  readonly repo: Repo
  readonly #ownsRepo: boolean
  readonly #loadCall: string
  readonly #core: Core
  readonly #lock = new Lock()
  readonly #timer: ExpiryTimer
  /** The patches the next lock turn applies, while more may join them (in call order). */
  #queued: Queued[] | undefined
  #loaded = false
  #closed = false

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
    const maxRepoBytes = options.maxRepoBytes ?? Number.POSITIVE_INFINITY
    if (!(maxRepoBytes > 0)) {
      throw new StoreError('STORE_INVALID_SLICE', 'maxRepoBytes must be a positive number')
    }
    this.#ownsRepo = !(repoOrDb instanceof Repo)
    this.repo =
      repoOrDb instanceof Repo ? repoOrDb : new Repo(repoOrDb, { strategy: options.strategy })
    this.#loadCall = options.loadCall ?? 'load()'
    const registry = this.repo.registry('store')
    const clock = options.clock ?? systemClock
    this.#core = {
      repo: this.repo,
      registry,
      codec: options.codec ?? cborBlockCodec,
      clock,
      strategy: options.strategy,
      cacheObjects,
      rank: options.rank,
      maxRepoBytes,
      consumers: new Consumers(),
      mempool: new Mempool(registry, { ...DEFAULT_MEMPOOL, ...options.mempool }, (ops) =>
        this.repo.batch(ops),
      ),
      held: new Map(),
      heads: new Map(),
      decoded: new WeakMap(),
      heldBytes: 0,
      nextSeq: 1,
      nextEntry: 1,
      nextTimerAt: Number.POSITIVE_INFINITY,
      replaying: false,
      claims: undefined,
    }
    this.#timer = new ExpiryTimer(clock, () => {
      this.gc().catch(() => undefined)
    })
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
    const core = this.#core
    return core.consumers.register(
      specOrName,
      memory as (new (store: StoreHost, name: string) => Memory) | undefined,
      this,
      {
        assertReady: () => this.#assertReady(),
        get: async (table, id) => (await readObject(core, table, id))?.value,
        query: (table, orders, q) => queryCollection(core.registry, table.memory.name, orders, q),
      },
    )
  }

  /**
   * Every slice's value and the objects of every collection that keeps a snapshot, by
   * name (read-only).
   */
  get state(): Readonly<Record<string, unknown>> {
    return this.#core.consumers.root
  }

  /**
   * Calls `fn` with the current value of slice or collection `name` now and after each
   * change; returns the unsubscribe function (a Svelte-compatible store contract).
   * @throws STORE_INVALID_SLICE when nothing is registered under `name`, or for a
   *   collection without a snapshot
   */
  on<S = Payload>(name: string, fn: Observer<S>): () => void {
    return this.#core.consumers.on(name, fn as Observer<Payload>)
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * Runs `task` under this store's lock, then trims the caches and re-arms the timer.
   * Patches dispatched after this call queue behind it.
   */
  #locked<T>(task: () => Promise<T>): Promise<T> {
    this.#queued = undefined
    return this.#lock.run(async () => {
      if (this.#closed) throw new StoreError('STORE_CLOSED', 'the store is closed')
      try {
        return await task()
      } finally {
        trimCaches(this.#core)
        this.#arm()
      }
    })
  }

  /** Arms the one real timer for the earliest expiry or mempool deadline. */
  #arm(): void {
    if (this.#closed || !this.#loaded) return
    this.#timer.arm(Math.min(this.#core.nextTimerAt, this.#core.mempool.nextDeadline()))
  }

  /** Resolves when every operation queued so far (dispatch, timer-driven gc...) is done. */
  idle(): Promise<void> {
    return this.#lock.idle()
  }

  /**
   * Restores the slices, the lookup index, the next timer and the mempool from the repo
   * (no object and no block is read, except the values of collections that keep a
   * snapshot), forgets what expired while the store was closed, and arms the expiry timer.
   * Calling it again does nothing.
   * @throws STORE_CLOSED after close; STORE_LAYOUT when an older store wrote the registry
   *   (another layout of its keys, layout.ts: nothing is read or changed); REPO_* when the
   *   repo fails
   */
  load(): Promise<void> {
    return this.#locked(async () => {
      if (this.#loaded) return
      const core = this.#core
      const released = await readRegistry(core)
      await core.mempool.load()
      const waiting = [...core.mempool.keys()]
      const { held } = await heldMany(core, waiting)
      await core.mempool.remove(waiting.filter((_, i) => held[i]))
      this.#loaded = true
      const tx = new Tx()
      for (const [chain, chainId] of released) tx.released.set(chain, chainId)
      await collect(core, core.clock.now(), tx)
      await evict(core, tx.released)
      core.consumers.notify(core.consumers.all())
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
    this.#timer.stop()
    if (this.#ownsRepo) await this.repo.close()
  }

  #assertReady(): void {
    if (this.#closed) throw new StoreError('STORE_CLOSED', 'the store is closed')
    if (!this.#loaded) throw new StoreError('STORE_NOT_LOADED', 'call load() first')
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
    const placement = { chainId: options.chainId, height: options.height, verified }
    return new Promise((resolve, reject) => {
      let queued = this.#queued
      if (!queued || queued.length >= MAX_QUEUED_PATCHES) {
        const turn: Queued[] = []
        queued = turn
        this.#locked(() => this.#applyQueued(turn)).catch((error) => {
          for (const waiting of turn) waiting.reject(error)
        })
        this.#queued = turn
      }
      queued.push({ blocks, tries: 0, placement, resolve, reject })
    })
  }

  /** One lock turn's patches (`turn`, no longer joined once it runs), as groups. */
  async #applyQueued(turn: Queued[]): Promise<void> {
    if (this.#queued === turn) this.#queued = undefined
    this.#assertReady()
    const outcomes = await dispatchGroup(this.#core, turn)
    for (const [i, outcome] of outcomes.entries()) {
      const waiting = turn[i]!
      if ('error' in outcome) {
        waiting.reject(outcome.error)
        continue
      }
      const { merged, stop, chainId } = outcome.result
      waiting.resolve({
        merged,
        chainId: merged.length > 0 ? chainId : undefined,
        refusal: stop && { code: stop.code, reason: stop.reason },
      })
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
      const core = this.#core
      const at = now ?? core.clock.now()
      const tx = new Tx()
      const expired = await collect(core, at, tx)
      const evicted = await evict(core, tx.released)
      core.consumers.notify(tx.changed, tx.objects)
      for (const retry of await core.mempool.due(at)) {
        await dispatchBlocks(core, retry.blocks, retry.tries, { verified: true })
      }
      return { expired, evicted }
    })
  }

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
      await replay(this.#core)
    })
  }
}
