import type { KernelOptions, SimpleKernel } from '@picostack/kernel'
import { digest, type Sample, stableJson } from './convergence.ts'
import { SimError } from './errors.ts'
import { EventQueue } from './event-queue.ts'
import { Idle } from './idle.ts'
import { Link, type LinkHost } from './link.ts'
import { combineProfiles, type LinkProfile, linkProfile } from './link-profile.ts'
import { type KernelFactory, type PeerHost, SimPeer } from './peer.ts'
import { Prng } from './prng.ts'
import { Report } from './report.ts'
import { Trace } from './trace.ts'
import { DEFAULT_START_MS, VirtualClock } from './virtual-clock.ts'

/** Options of {@link Simulator}. */
export interface SimulatorOptions<K extends SimpleKernel> {
  /** Makes the app's kernel: `(db, options) => new MyKernel(db, options)`. */
  kernel: KernelFactory<K>
  /** Seed of every random choice (default `'picostack'`). */
  seed?: string | number
  /**
   * What "the same state" means for convergence: a JSON-able summary of a kernel, or a
   * promise of one (default: `kernel.store.state`, which holds slices and collections that
   * keep a snapshot; read a collection on disk here, e.g. `async (k) => (await
   * k.tasks.query({ limit: 10_000 })).map(...)`). Compared as JSON with sorted keys; time
   * does not move while it reads.
   */
  stateOf?: (kernel: K) => unknown
  /** Options every kernel gets (limits...); the simulator sets secret, clock, randomBytes. */
  kernelOptions?: KernelOptions
  /** Virtual time at the start, ms since the epoch (default 2025-01-01T00:00:00Z). */
  startMs?: number
  /** Default link profile of every peer (see {@link LinkProfile}). */
  link?: Partial<LinkProfile>
  /** Default range of connections each peer dials up to, `[min, max]` (default `[3, 8]`). */
  links?: readonly [number, number]
  /** Default most connections a peer holds, dialed and accepted (default 8). */
  maxConnections?: number
  /** How often each peer short of links dials one more, virtual ms (default 1000). */
  discoveryIntervalMs?: number
  /** How often every live peer's state is sampled for the convergence plot, virtual ms (default 1000). */
  sampleIntervalMs?: number
  /** Wall ms a delivery or callback may take to settle before the run fails with `SIM_STALLED` (default 10 000). */
  stallTimeoutMs?: number
  /** Record every frame in the trace (default true; the hash covers them). */
  traceFrames?: boolean
  /** Keep the trace lines for `report().ndjson()` (default true). */
  keepTrace?: boolean
}

/** Options of {@link Simulator.launch}. */
export interface LaunchOptions {
  /** Topic it joins; peers connect within a topic (default `'default'`). */
  topic?: string
  /** Its link profile (over the simulator's default). */
  link?: Partial<LinkProfile>
  /** Range of connections it dials up to, `[min, max]` (over the simulator's default). */
  links?: readonly [number, number]
  /** Most connections it holds (over the simulator's default). */
  maxConnections?: number
}

/** A signal a peer emitted. */
export interface Signal {
  /** Virtual ms since the start. */
  t: number
  /** The peer's name. */
  peer: string
  /** The signal's name. */
  name: string
  /** What came with it. */
  data: unknown
}

/** Options of {@link Simulator.run}. */
export interface RunOptions {
  /** Run until this virtual time, ms since the start of the simulation. */
  until: number
}

function checkRange(name: string, [min, max]: readonly [number, number], cap: number) {
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 0 || min > max || max > cap) {
    throw new SimError('SIM_INVALID_INPUT', `${name} must be integers 0 <= min <= max <= ${cap}`)
  }
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new SimError('SIM_INVALID_INPUT', `${name} must be a positive number`)
  }
  return value
}

/**
 * Many kernels of one app in one process, on virtual time: a seeded swarm with topics,
 * connection limits, links with latency, jitter, bandwidth and loss, churn (crash, leave,
 * restart on the same database) and partitions.
 *
 * Determinism: one event queue ordered by (virtual time, scheduling order); every random
 * choice comes from the seed; and virtual time only moves when every kernel is idle (each
 * event's deliveries and callbacks have settled, signature checks on the thread pool
 * included), so the same seed and scenario give the same trace hash.
 *
 * ```ts
 * const sim = new Simulator({ seed: 1, kernel: (db, o) => new TodoKernel(db, o) })
 * sim.launch('alice', {}, async (peer) => { await peer.kernel!.addTask('hi') })
 * sim.launch('bob')
 * await sim.run({ until: 60_000 })
 * console.log(sim.report().text())
 * ```
 */
export class Simulator<K extends SimpleKernel = SimpleKernel> {
  /** The simulation's clock (virtual ms since the epoch). */
  readonly clock: VirtualClock
  /** The generator scenarios should draw from (a fork of the seed, apart from the simulator's own). */
  readonly random: Prng
  /** Every line recorded, and its hash. */
  readonly trace: Trace
  /** Signals emitted so far, in order. */
  readonly signals: Signal[] = []
  /** Virtual time at the start, ms since the epoch. */
  readonly startMs: number
  readonly #queue = new EventQueue()
  readonly #options: SimulatorOptions<K>
  readonly #internal: Prng
  readonly #peers = new Map<string, SimPeer<K>>()
  readonly #links = new Set<Link>()
  readonly #idle: Idle
  readonly #samples: Sample[] = []
  readonly #lastDigest = new Map<string, string>()
  readonly #signalListeners = new Set<(signal: Signal) => void>()
  readonly #defaults: Required<Pick<LaunchOptions, 'links' | 'maxConnections'>> & {
    link: LinkProfile
  }
  readonly #peerHost: PeerHost<K>
  readonly #linkHost: LinkHost
  #groups: Map<string, number> | undefined
  #ticking = false
  #running = false
  #closed = false

  /** @throws SIM_INVALID_INPUT when an option is out of range */
  constructor(options: SimulatorOptions<K>) {
    if (typeof options?.kernel !== 'function') {
      throw new SimError('SIM_INVALID_INPUT', 'options.kernel must make a kernel')
    }
    this.#options = options
    const seed = options.seed ?? 'picostack'
    this.#internal = new Prng(`${seed}/simulator`)
    this.random = new Prng(`${seed}/scenario`)
    this.startMs = options.startMs ?? DEFAULT_START_MS
    this.clock = new VirtualClock(this.#queue, this.startMs)
    this.trace = new Trace(options.keepTrace ?? true)
    const maxConnections = options.maxConnections ?? 8
    const links = options.links ?? [3, 8]
    checkRange('maxConnections', [1, maxConnections], 1024)
    checkRange('links', links, maxConnections)
    this.#defaults = { link: linkProfile(options.link), links, maxConnections }
    positive('discoveryIntervalMs', options.discoveryIntervalMs ?? 1000)
    positive('sampleIntervalMs', options.sampleIntervalMs ?? 1000)
    this.#idle = new Idle(positive('stallTimeoutMs', options.stallTimeoutMs ?? 10_000))
    this.#peerHost = this.#makePeerHost()
    this.#linkHost = {
      clock: this.clock,
      startMs: this.startMs,
      traceFrames: options.traceFrames ?? true,
      trace: (event, fields) => this.trace.record(this.elapsedMs, event, fields),
      linkClosed: (link) => {
        this.#links.delete(link)
        link.a.links.delete(link)
        link.b.links.delete(link)
      },
    }
  }

  /** Virtual ms since the start. */
  get elapsedMs(): number {
    return this.clock.now() - this.startMs
  }

  /** Every peer launched, in launch order. */
  get peers(): SimPeer<K>[] {
    return [...this.#peers.values()]
  }

  /** The peers whose kernel runs now. */
  get live(): SimPeer<K>[] {
    return this.peers.filter((peer) => peer.running)
  }

  /** Open and dialing links. */
  get links(): Link[] {
    return [...this.#links]
  }

  /**
   * The peer named `name`.
   * @throws SIM_INVALID_INPUT when there is none
   */
  peer(name: string): SimPeer<K> {
    const peer = this.#peers.get(name)
    if (!peer) throw new SimError('SIM_INVALID_INPUT', `no peer ${name}`)
    return peer
  }

  /**
   * Adds a peer, booted at the current virtual time; `setup(peer)` runs after each of its
   * boots (`peer.boots` tells which). Time does not move while `setup` runs: start later
   * work with `peer.setTimeout`.
   * @throws SIM_DUPLICATE_PEER when `name` is taken; SIM_INVALID_INPUT for bad options
   */
  launch(name: string, options: LaunchOptions = {}, setup?: (peer: SimPeer<K>) => unknown) {
    this.#assertOpen()
    if (this.#peers.has(name)) throw new SimError('SIM_DUPLICATE_PEER', `a peer ${name} exists`)
    const maxConnections = options.maxConnections ?? this.#defaults.maxConnections
    const links = options.links ?? this.#defaults.links
    checkRange('maxConnections', [1, maxConnections], 1024)
    checkRange('links', links, maxConnections)
    const random = new Prng(`${this.#options.seed ?? 'picostack'}/peer/${name}`)
    const peer: SimPeer<K> = new SimPeer<K>(
      name,
      {
        topic: options.topic ?? 'default',
        link: linkProfile({ ...this.#defaults.link, ...options.link }),
        targetLinks: random.int(links[0], links[1]),
        maxConnections,
      },
      random,
      setup,
      this.#peerHost,
    )
    this.#peers.set(name, peer)
    this.trace.record(this.elapsedMs, 'launch', { peer: name, topic: peer.settings.topic })
    this.clock.setTimeout(() => this.#idle.guard(`${name} boot`, peer.boot()), 0)
    return peer
  }

  /**
   * Calls `fn` after `ms` of virtual time (scenario steps: partitions, churn, checks). As
   * with peer timers, time does not move until an async `fn` settles.
   * @returns a handle for {@link Simulator.clearTimeout}
   */
  setTimeout(fn: () => unknown, ms: number): unknown {
    return this.clock.setTimeout(() => this.#idle.callback('timer', fn), ms)
  }

  /** Cancels a timer of {@link Simulator.setTimeout}. */
  clearTimeout(handle: unknown): void {
    this.clock.clearTimeout(handle)
  }

  /** Calls `listener` on every signal; returns the function that unsubscribes it. */
  onSignal(listener: (signal: Signal) => void): () => void {
    this.#signalListeners.add(listener)
    return () => this.#signalListeners.delete(listener)
  }

  /**
   * Splits the swarm: peers in different groups cannot reach each other. Links between
   * groups are reset (both sides see `SIM_LINK_RESET` a latency later); peers named in no
   * group form one more group together.
   * @throws SIM_INVALID_INPUT for an unknown peer name
   */
  partition(groups: readonly (readonly string[])[]): void {
    const map = new Map<string, number>()
    groups.forEach((group, i) => {
      for (const name of group) {
        this.peer(name)
        map.set(name, i)
      }
    })
    this.#groups = map
    this.trace.record(this.elapsedMs, 'partition', { groups: groups.map((g) => g.length) })
    const reason = new SimError('SIM_LINK_RESET', 'partitioned')
    for (const link of this.#links) {
      if (!this.#reachable(link.a.name, link.b.name)) {
        link.reset(reason, () => link.profile.latencyMs)
      }
    }
  }

  /**
   * Ends the partition: every peer can reach every other again, and each live peer with
   * room dials one peer of another group that has room too (what its next lookup of the
   * topic would find), so the groups join even where every peer had its links.
   */
  heal(): void {
    const groups = this.#groups
    this.#groups = undefined
    this.trace.record(this.elapsedMs, 'heal', {})
    if (!groups) return
    const group = (peer: SimPeer<K>) => groups.get(peer.name) ?? -1
    for (const peer of this.live) {
      if (peer.links.size >= peer.settings.maxConnections) continue
      const candidates = this.#candidates(peer).filter((other) => group(other) !== group(peer))
      if (candidates.length > 0) this.#dial(peer, this.#internal.pick(candidates))
    }
  }

  /**
   * Runs the events due until `until` virtual ms after the start, then leaves the clock
   * there. Resolves when done; call again to go on.
   * @throws SIM_STALLED when async work does not settle within `stallTimeoutMs` (wall)
   * @throws SIM_CALLBACK_FAILED when a scenario callback failed (`cause`: its error)
   * @throws SIM_INVALID_INPUT when `until` is before now; SIM_CLOSED after close
   */
  async run({ until }: RunOptions): Promise<void> {
    this.#assertOpen()
    if (this.#running) throw new SimError('SIM_INVALID_INPUT', 'already running')
    const end = this.startMs + until
    if (!(end >= this.clock.now())) {
      throw new SimError('SIM_INVALID_INPUT', `until ${until} ms is before now`)
    }
    this.#running = true
    try {
      this.#startTicks()
      for (;;) {
        if (this.#idle.failure) throw this.#idle.failure
        const next = this.#queue.peek()
        if (!next || next.time > end) break
        this.#queue.pop()
        this.clock.advanceTo(next.time)
        this.#idle.callback('event', next.run)
        await this.#idle.settle(`at virtual ${this.elapsedMs} ms`)
      }
      if (this.#idle.failure) throw this.#idle.failure
      this.clock.advanceTo(end)
      await this.#sample()
    } finally {
      this.#running = false
    }
  }

  /** The report of the run so far: text summary, HTML page, ndjson trace, hash. */
  report(): Report {
    return new Report({
      trace: this.trace,
      samples: this.#samples,
      peers: this.peers,
      links: this.links,
      elapsedMs: this.elapsedMs,
      seed: String(this.#options.seed ?? 'picostack'),
    })
  }

  /** Closes every kernel (the trace and report stay readable). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const link of this.#links) link.reset(new SimError('SIM_CLOSED', 'simulator closed'))
    await Promise.allSettled(this.peers.map((peer) => peer.kernel?.close()))
  }

  // ---------------------------------------------------------------- internals

  #makePeerHost(): PeerHost<K> {
    return {
      track: (delivery) => this.#idle.track(delivery),
      callback: (what, fn) => this.#idle.callback(what, fn),
      trace: (event, fields) => this.trace.record(this.elapsedMs, event, fields),
      signal: (peer, name, data) => {
        const signal: Signal = { t: this.elapsedMs, peer: peer.name, name, data }
        this.signals.push(signal)
        this.trace.record(signal.t, 'signal', { peer: peer.name, name, data })
        for (const listener of this.#signalListeners) listener(signal)
      },
      clockScope: () => this.clock.scope(),
      factory: this.#options.kernel,
      kernelOptions: this.#options.kernelOptions ?? {},
      peerDown: (peer, crashed) => {
        const reason = new SimError('SIM_LINK_RESET', `${peer.name} crashed`)
        for (const link of [...peer.links]) {
          if (crashed) link.reset(reason, (p) => (p === peer ? 0 : link.profile.latencyMs))
          else if (link.state === 'dialing') link.reset(reason)
        }
      },
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new SimError('SIM_CLOSED', 'the simulator was closed')
  }

  #reachable(a: string, b: string): boolean {
    const groups = this.#groups
    return !groups || (groups.get(a) ?? -1) === (groups.get(b) ?? -1)
  }

  #startTicks(): void {
    if (this.#ticking) return
    this.#ticking = true
    const discoveryMs = this.#options.discoveryIntervalMs ?? 1000
    const sampleMs = this.#options.sampleIntervalMs ?? 1000
    const discover = () => {
      this.#discover()
      this.clock.setTimeout(discover, discoveryMs)
    }
    const sample = async () => {
      await this.#sample()
      this.clock.setTimeout(sample, sampleMs)
    }
    this.clock.setTimeout(discover, discoveryMs / 2)
    this.clock.setTimeout(sample, sampleMs)
  }

  /** Each running peer short of its target dials one reachable peer with room. */
  #discover(): void {
    for (const peer of this.live) {
      if (!peer.running || peer.links.size >= peer.settings.targetLinks) continue
      const candidates = this.#candidates(peer)
      if (candidates.length > 0) this.#dial(peer, this.#internal.pick(candidates))
    }
  }

  /** Running peers of `peer`'s topic it can reach, is not linked to, and that have room. */
  #candidates(peer: SimPeer<K>): SimPeer<K>[] {
    const linked = new Set([...peer.links].map((link) => link.other(peer)))
    return this.live.filter(
      (other) =>
        other !== peer &&
        other.settings.topic === peer.settings.topic &&
        other.links.size < other.settings.maxConnections &&
        !linked.has(other) &&
        this.#reachable(peer.name, other.name),
    )
  }

  #dial(from: SimPeer<K>, to: SimPeer<K>): void {
    const profile = combineProfiles(from.settings.link, to.settings.link)
    const random = this.#internal.fork(`link/${from.name}~${to.name}/${this.elapsedMs}`)
    const link = new Link(this.#linkHost, from, to, profile, random)
    this.#links.add(link)
    from.links.add(link)
    to.links.add(link)
    // A connection is up after one round trip (the handshake).
    this.clock.setTimeout(() => {
      if (link.state !== 'dialing') return
      if (from.running && to.running && this.#reachable(from.name, to.name)) link.open()
      else link.reset(new SimError('SIM_LINK_RESET', 'dial failed'))
    }, 2 * profile.latencyMs)
  }

  async #sample(): Promise<void> {
    const stateOf = this.#options.stateOf ?? ((kernel: K) => kernel.store.state)
    const digests = new Map<string, string>()
    for (const peer of this.#peers.values()) {
      if (!peer.running) continue
      const d = digest(stableJson(await stateOf(peer.kernel!)))
      digests.set(peer.name, d)
      if (this.#lastDigest.get(peer.name) !== d) {
        this.#lastDigest.set(peer.name, d)
        this.trace.record(this.elapsedMs, 'state', { peer: peer.name, digest: d })
      }
    }
    const last = this.#samples[this.#samples.length - 1]
    if (last?.t === this.elapsedMs) this.#samples.pop()
    this.#samples.push({ t: this.elapsedMs, digests })
  }
}
