import {
  type Block,
  bytesEqual,
  Feed,
  type FeedLike,
  getPublicKey,
  keyBytes,
  type SecretKey,
} from '@picostack/feed'
import type { Plug } from '@picostack/net'
import { type LevelDatabase, type Registry, Repo } from '@picostack/repo'
import {
  type Clock,
  decodeBlock,
  encodeBlock,
  Store,
  StoreError,
  type StoreOptions,
  systemClock,
} from '@picostack/store'
import { map } from '@picostack/views'
import { ensureOpen, openDatabase } from './database.ts'
import { KernelError } from './errors.ts'
import { cryptoRandomBytes, type RandomBytes } from './random.ts'
import type { Readable } from './readable.ts'
import type { DirectLink } from './signal/direct-links.ts'
import { Signalling, type SignalOptions } from './signal/signalling.ts'
import { type Peer, type SpawnOptions, SyncEngine, type SyncOptions } from './sync/engine.ts'

/** Options of `new SimpleKernel()`. */
export interface KernelOptions extends SyncOptions {
  /**
   * Identity: a 32-byte Ed25519 seed (64 hex characters or bytes). Default: the one stored
   * in the database, or a new random one stored there on first boot.
   */
  secret?: SecretKey
  /**
   * Store options (block codec, mempool limits; a `clock` here overrides
   * {@link KernelOptions.clock} for the store alone); the merge strategy is
   * {@link SimpleKernel.mergeStrategy}.
   */
  store?: Omit<StoreOptions, 'strategy'>
  /**
   * Storage budget: most bytes of held blocks (default: no limit; the same as
   * `store.maxRepoBytes`). Past it the store drops whole chains and the state they back,
   * soonest to expire first (or by `store.rank`); see the store README, "Storage budget".
   */
  maxRepoBytes?: number
  /**
   * The kernel's time source and timer (default: the system clock): the `date` of the blocks
   * `createBlock` makes, the store's expiry timers, and every sync timer (rate limits,
   * pacing, handshake and idle timeouts, keepalive pings). Inject a fake one in tests and
   * simulators to drive time without waiting.
   */
  clock?: Clock
  /**
   * Source of random bytes (default `crypto.getRandomValues`): the node id, each
   * connection's nonce, and the seed of a new identity (when neither `secret` nor a stored
   * one exists). Inject a seeded one to make runs repeatable; never in production.
   */
  randomBytes?: RandomBytes
  /**
   * Signalling and direct WebRTC links (docs/webrtc.md): pass `RTCPeerConnection` to take
   * direct links with peers a connected kernel introduces; every kernel introduces its
   * peers to each other unless `introduce: false`.
   */
  signal?: SignalOptions
}

/** Registry keys of the kernel (`repo.registry('kernel')`). */
const REG_SECRET = 'secret' // 32 B seed
const REG_CHAIN = 'chain' // 64 B id of the kernel's own main chain

/**
 * The facade apps extend (docs/concepts.md): one identity, one store of slices and
 * collections over one repo, a main feed it appends blocks to, and the sync protocol over
 * any number of wires.
 *
 * ```ts
 * class Kernel extends SimpleKernel {
 *   constructor (db) { super(db); this.store.register({ name: 'clock', initialValue: 0, reducer }) }
 *   createTick () { return this.createBlock('tick', { time: Date.now() }) }
 * }
 * const alice = new Kernel(new MemoryLevel()); await alice.boot()
 * alice.spawnWire()(bob.spawnWire())
 * ```
 */
export class SimpleKernel {
  /** Encodes a block body: CBOR `[type, payload, date]` (docs/block-format.md, "Block bodies written by the kernel"). */
  static readonly encodeBlock = encodeBlock
  /** Decodes a body to `{ ...payload, type, date }` (or `{ type, date, payload }`). */
  static readonly decodeBlock = decodeBlock

  /** The database (what the constructor was given, or opened). */
  readonly db: LevelDatabase
  /** Blocks, chains and registries. */
  readonly repo: Repo
  /** State: register slices and collections here, in the constructor. */
  readonly store: Store
  readonly #sync: SyncEngine
  readonly #signalling: Signalling
  readonly #registry: Registry
  readonly #secretOption: SecretKey | undefined
  readonly #clock: Clock
  readonly #randomBytes: RandomBytes
  #secret: Uint8Array | undefined
  #pk = ''
  /** Head block of the main chain (the only block of it kept in memory). */
  #head: Block | undefined
  #booting: Promise<void> | undefined
  #booted = false
  #closed = false
  #appending: Promise<unknown> = Promise.resolve()

  /**
   * @param db - an abstract-level database, a path string (classic-level in Node,
   *   IndexedDB name in browsers), or nothing (a fresh memory-level database)
   * @param options - identity, sync limits, wire and store options
   * @throws KERNEL_INVALID_INPUT when a sync limit is not a positive number (`eagerPeers` may be 0)
   */
  constructor(db?: LevelDatabase | string, options: KernelOptions = {}) {
    this.#clock = options.clock ?? systemClock
    this.#randomBytes = options.randomBytes ?? cryptoRandomBytes
    // Checks the limits before anything opens.
    this.#sync = new SyncEngine(this, options, {
      clock: this.#clock,
      randomBytes: this.#randomBytes,
    })
    this.#signalling = new Signalling(this, options.signal, this.#clock)
    this.#sync.onsignal = (payload, peer) => this.#signalling.receive(payload, peer)
    this.db = openDatabase(db)
    this.repo = new Repo(this.db, { strategy: (block, repo) => this.mergeStrategy(block, repo) })
    this.store = new Store(this.repo, {
      clock: this.#clock,
      loadCall: 'boot()', // a kernel's users call boot(), which loads the store
      ...(options.maxRepoBytes === undefined ? {} : { maxRepoBytes: options.maxRepoBytes }),
      ...options.store,
      strategy: (block, repo) => this.mergeStrategy(block, repo),
    })
    this.#registry = this.repo.registry('kernel')
    this.#secretOption = options.secret
  }

  /**
   * Loads state and restores the identity (or creates and stores one); the same `pk`
   * after a restart on the same database. Idempotent.
   * @throws KERNEL_CLOSED after close; KERNEL_DB_LOCKED when another kernel or process has
   *   the database open; FEED_INVALID_KEY for a malformed `secret` option;
   *   REPO_* / STORE_* when the database fails
   */
  boot(): Promise<void> {
    if (this.#closed) return Promise.reject(new KernelError('KERNEL_CLOSED', 'the kernel closed'))
    this.#booting ??= this.#boot()
    return this.#booting
  }

  async #boot(): Promise<void> {
    await ensureOpen(this.db) // a folder held elsewhere fails here, as KERNEL_DB_LOCKED
    await this.store.load()
    const stored = await this.#registry.get(REG_SECRET)
    let seed: Uint8Array | undefined = stored && new Uint8Array(stored)
    if (this.#secretOption !== undefined) {
      const given = keyBytes(this.#secretOption, 'secret')
      if (!seed || !bytesEqual(seed, given)) {
        // Another identity: its main chain is not the previous one's.
        await this.#registry.del(REG_CHAIN)
        await this.#registry.put(REG_SECRET, given)
      }
      seed = given
    } else if (!seed) {
      seed = keyBytes(this.#randomBytes(32), 'secret')
      await this.#registry.put(REG_SECRET, seed)
    }
    this.#secret = seed
    this.#pk = getPublicKey(seed)
    const chainId = await this.#registry.get(REG_CHAIN)
    const chain = chainId && (await this.repo.summary(chainId))
    this.#head = chain ? await this.repo.readBlock(chain.headId) : undefined
    this.#booted = true
  }

  #assertBooted(): void {
    if (this.#closed) throw new KernelError('KERNEL_CLOSED', 'the kernel closed')
    if (!this.#booted) throw new KernelError('KERNEL_NOT_BOOTED', 'call boot() first')
  }

  /**
   * The kernel's public key (64 hex characters).
   * @throws KERNEL_NOT_BOOTED before boot
   */
  get pk(): string {
    this.#assertBooted()
    return this.#pk
  }

  /** Random id of this kernel run (16 B); peers see it as `peer.id` (hex). */
  get nodeId(): Uint8Array {
    return this.#sync.nodeId
  }

  /**
   * Appends a block `[type, payload, clock.now()]` to the kernel's main feed (or, given
   * `branch`, after `branch.last`; an empty feed starts a new chain) and dispatches it
   * loudly. O(1) in the feed's length: only the head block is kept and copied. A refused
   * block is neither stored nor becomes the head. The new block is gossiped to every peer.
   * @param branch - a feed whose last block the new one follows (e.g. a patch this returned)
   * @returns the patch: a feed of the one new block
   * @throws STORE_REJECTED (or another STORE_* code) when the store refuses the block
   * @throws STORE_DECODE when the payload is not CBOR-encodable
   * @throws KERNEL_NOT_BOOTED, KERNEL_CLOSED
   */
  async createBlock(type: string, payload: unknown, branch?: Feed): Promise<Feed> {
    this.#assertBooted()
    const body = encodeBlock(type, payload, this.#clock.now())
    if (branch) return this.#append(branch.last, body)
    const run = this.#appending.then(async () => {
      let parent = this.#head
      // The whole main chain may have expired and left the disk: start a new one.
      if (parent && !(await this.repo.hasBlock(parent.sig))) parent = undefined
      const patch = await this.#append(parent, body)
      const block = patch.last!
      if (!parent) await this.#registry.put(REG_CHAIN, block.sig)
      this.#head = block
      return patch
    })
    this.#appending = run.catch(() => undefined)
    return run
  }

  async #append(parent: Block | undefined, body: Uint8Array): Promise<Feed> {
    const feed = parent ? Feed.from([parent], { verify: false }) : new Feed()
    feed.append(body, this.#secret!)
    // A new chain's feed is the patch already; otherwise the parent is cut off.
    const patch = parent ? feed.slice(-1) : feed
    // Asked before the dispatch: a block that deletes an object can take its parent off
    // the disk in the same operation.
    const chainId = parent ? await this.repo.chainOf(parent.sig) : undefined
    // Signed here with our own key a moment ago: no need to verify it. What merges is
    // `patch` itself: `apply`, which builds no feed of it (`dispatch` would), and its
    // refusal thrown as a loud dispatch throws it.
    const { refusal } = await this.store.apply(patch, { verified: true })
    if (refusal) throw new StoreError(refusal.code, refusal.reason)
    this.#sync.announce(chainId ?? patch.last!.sig)
    return patch
  }

  /**
   * Dispatches a patch (blocks of one chain) to the store and gossips what merged.
   * @param loud - throw the store's refusal instead of returning what merged
   * @returns the merged blocks, or `undefined` when none merged
   * @throws STORE_* with `loud`; KERNEL_NOT_BOOTED, KERNEL_CLOSED
   */
  async dispatch(patch: FeedLike, loud = false): Promise<Feed | undefined> {
    this.#assertBooted()
    const merged = await this.store.dispatch(patch, { loud })
    const last = merged?.last
    if (last) this.#sync.announce((await this.repo.chainOf(last.sig)) ?? last.sig)
    return merged
  }

  /**
   * The kernel's main feed from the repo: all stored blocks, or the newest `limit`.
   * `undefined` before the first block.
   * @throws KERNEL_NOT_BOOTED, KERNEL_CLOSED; REPO_INVALID_INPUT for a bad limit
   */
  async feed(limit?: number): Promise<Feed | undefined> {
    this.#assertBooted()
    return this.#head && this.repo.loadFeed(this.#head.sig, limit)
  }

  /**
   * A new wire; whoever opens its other end (another kernel's wire, a transport adapter)
   * starts a sync session with this kernel. Transports pass what they know of the remote
   * (`{ address: socket.remoteAddress }`) so that one host holds at most
   * `maxSessionsPerAddress` sessions. A wire past `maxSessions` (or that cap) is refused
   * when it opens: it closes with `KERNEL_TOO_MANY_SESSIONS` (see {@link SimpleKernel.onrefuse}).
   * @param options - what the transport knows of the remote
   * @throws KERNEL_NOT_BOOTED, KERNEL_CLOSED
   */
  spawnWire(options?: SpawnOptions): Plug {
    this.#assertBooted()
    return this.#sync.spawnWire(options)
  }

  /** Connected peers (a Svelte-compatible store: fires at once and on every change). */
  get connections(): Readable<Peer[]> {
    return this.#sync.connections
  }

  /** Connected peers now. */
  get peers(): Peer[] {
    return this.#sync.connections.value
  }

  /**
   * Whether at least one peer is connected: a view of {@link SimpleKernel.connections}
   * that notifies only when this flips (e.g. an online badge).
   */
  get online(): Readable<boolean> {
    this.#online ??= map(this.#sync.connections, (peers) => peers.length > 0)
    return this.#online
  }

  #online: Readable<boolean> | undefined

  /**
   * Peers that a connected kernel introduced, each `relayed` (reached only through it),
   * `connecting` or `direct` (a WebRTC link of its own); see docs/webrtc.md.
   */
  get links(): Readable<DirectLink[]> {
    return this.#signalling.links
  }

  /**
   * Decides forks and foreign appends (a block whose parent is not its chain's head, or by
   * another author than the chain's owner). Override it; the default refuses both.
   */
  mergeStrategy(_block: Block, _repo: Repo): boolean | Promise<boolean> {
    return false
  }

  /** True when `peer` is one of this kernel's direct (WebRTC) links: the sync pushes to it first. */
  isDirect(peer: Peer): boolean {
    return this.#signalling.links.value.some((l) => l.id === peer.id && l.state === 'direct')
  }

  /** Called when a peer connects (after the handshake). Override it. */
  onconnect(_peer: Peer): void {}

  /** Called when a connected peer disconnects, with the reason. Override it. */
  ondisconnect(_peer: Peer, _reason: Error | undefined): void {}

  /**
   * Called when a wire's session ends before it became a peer (no `onconnect` was called),
   * with the reason: `KERNEL_SELF_WIRE` (the kernel was wired to itself),
   * `KERNEL_DUPLICATE_PEER`, `KERNEL_VERSION`, `KERNEL_TOO_MANY_SESSIONS`,
   * `KERNEL_HANDSHAKE_TIMEOUT`, or the transport's error. The same reason resolves the
   * wire's `plug.closed`. `peer.id` is empty when the peer's hello never arrived;
   * `peer.stats.errors` holds what the peer said (e.g. why it refused us). Override it.
   */
  onrefuse(_peer: Peer, _reason: Error | undefined): void {}

  /**
   * Answers a peer's `peer.query(payload)`. Override it; the default refuses every query
   * (the asker gets `KERNEL_REMOTE_ERROR`).
   */
  onquery(_payload: Uint8Array, _peer: Peer): Uint8Array | Promise<Uint8Array> {
    throw new KernelError('KERNEL_INVALID_INPUT', 'this kernel answers no queries')
  }

  /** Disconnects every peer, stops timers, closes the store and the database. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#signalling.close()
    this.#sync.close()
    await this.#booting?.catch(() => undefined)
    await this.#appending
    await this.store.close()
    await this.repo.close()
  }
}
