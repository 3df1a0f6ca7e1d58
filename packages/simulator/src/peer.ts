import {
  bytesEqual,
  DEFAULT_SYNC_LIMITS,
  decodeMessage,
  Feed,
  fromHex,
  getPublicKey,
  type KernelOptions,
  openDatabase,
  type SimpleKernel,
  toHex,
} from '@picostack/kernel'
import { SimError } from './errors.ts'
import type { Link, LinkPeer, TrafficStats } from './link.ts'
import type { LinkProfile } from './link-profile.ts'
import type { Prng } from './prng.ts'
import type { ScopedClock } from './virtual-clock.ts'

/** The database a kernel opens (what `openDatabase()` of `picostack` returns). */
export type KernelDatabase = ReturnType<typeof openDatabase>

/** Makes a kernel of the simulated app on `db`; pass `options` on to the kernel's constructor. */
export type KernelFactory<K extends SimpleKernel> = (
  db: KernelDatabase,
  options: KernelOptions,
) => K

/** Where a peer is in its life. */
export type PeerState = 'booting' | 'running' | 'down'

/** Block counters of one peer, over every restart. */
export interface BlockStats {
  /** Blocks that arrived in patches. */
  received: number
  /** Of those, blocks it had received before or authored itself. */
  duplicates: number
}

/** What a peer asks of the simulator (the simulator implements it). */
export interface PeerHost<K extends SimpleKernel> {
  /** Tracks a delivery: time does not move until it settles; a rejection is ignored. */
  track(delivery: Promise<unknown>): void
  /** Runs a scenario callback: time does not move until it settles; a failure stops the run. */
  callback(what: string, fn: () => unknown): void
  /** Records a trace line. */
  trace(event: string, fields: Record<string, unknown>): void
  /** Records a signal. */
  signal(peer: SimPeer<K>, name: string, data: unknown): void
  /** A new clock view for one incarnation of a peer. */
  clockScope(): ScopedClock
  /** Makes the kernel. */
  readonly factory: KernelFactory<K>
  /** Options every kernel gets (the simulator's own go on top). */
  readonly kernelOptions: KernelOptions
  /** Peer went down: its links are cut or closing. */
  peerDown(peer: SimPeer<K>, crashed: boolean): void
}

/** Settings of one peer, from `launch` options and the simulator's defaults. */
export interface PeerSettings {
  /** The topic it joins; it connects only to peers of the same topic. */
  topic: string
  /** Its side of every link. */
  link: LinkProfile
  /** Connections it dials up to (drawn from the launch range). */
  targetLinks: number
  /** Connections it accepts in all, dialed and accepted. */
  maxConnections: number
}

/**
 * One simulated peer: a kernel on its own memory database, which survives crashes and
 * restarts (a restart is a new kernel on the same database and identity). Its timers
 * (`setTimeout`, and the kernel's own through its clock) are cancelled when it goes down.
 */
export class SimPeer<K extends SimpleKernel = SimpleKernel> implements LinkPeer {
  /** The running kernel; `undefined` while down. */
  kernel: K | undefined
  /** Where it is in its life. */
  state: PeerState = 'booting'
  /** How many times it booted (1 during its first life). */
  boots = 0
  /** Its open and dialing links. */
  readonly links = new Set<Link>()
  /** Traffic over every link and restart. */
  readonly traffic: TrafficStats = {
    framesOut: 0,
    framesIn: 0,
    bytesOut: 0,
    bytesIn: 0,
    retransmits: 0,
  }
  /** Blocks received, over every restart. */
  readonly blocks: BlockStats = { received: 0, duplicates: 0 }
  /** The public key (hex) of its identity, the same over restarts. */
  readonly pk: string
  /** Its database, kept over crashes and restarts. */
  readonly db: KernelDatabase = openDatabase(undefined)
  readonly #secret: Uint8Array
  readonly #pkBytes: Uint8Array
  readonly #seen = new Set<string>()
  #clock: ScopedClock | undefined
  /** The last kernel's close (a restart boots after it). */
  #closing: Promise<void> = Promise.resolve()

  /**
   * @param name - unique name in the simulation
   * @param settings - topic, link profile, connection bounds
   * @param random - the peer's own generator (identity, node ids, nonces)
   * @param setup - runs after every boot (`peer.boots` tells which)
   * @param host - the simulator
   */
  constructor(
    readonly name: string,
    readonly settings: PeerSettings,
    readonly random: Prng,
    private readonly setup: ((peer: SimPeer<K>) => unknown) | undefined,
    private readonly host: PeerHost<K>,
  ) {
    this.#secret = random.fork('secret').bytes(32)
    this.pk = getPublicKey(this.#secret)
    this.#pkBytes = fromHex(this.pk)
  }

  /** True while its kernel runs. */
  get running(): boolean {
    return this.state === 'running'
  }

  /**
   * Calls `fn` after `ms` of virtual time, unless the peer goes down first. `fn` may be
   * async: time does not move until it settles, so it must not wait for virtual time
   * itself (schedule another timer instead).
   * @returns a handle for {@link SimPeer.clearTimeout}
   * @throws SIM_PEER_STATE when the peer is down
   */
  setTimeout(fn: () => unknown, ms: number): unknown {
    if (!this.#clock || this.state === 'down') {
      throw new SimError('SIM_PEER_STATE', `${this.name} is down: it has no timers`)
    }
    return this.#clock.setTimeout(() => this.host.callback(`${this.name} timer`, fn), ms)
  }

  /** Cancels a timer of {@link SimPeer.setTimeout}. */
  clearTimeout(handle: unknown): void {
    this.#clock?.clearTimeout(handle)
  }

  /** Emits a signal: a trace line and a `sim.signals` entry, with `data` (JSON-able). */
  signal(name: string, data?: unknown): void {
    this.host.signal(this, name, data)
  }

  /** Boots a kernel on the peer's database (first launch and restarts). */
  async boot(): Promise<void> {
    this.state = 'booting'
    this.boots++
    const clock = this.host.clockScope()
    this.#clock = clock
    const random = this.random.fork(`kernel/${this.boots}`)
    const kernel = this.host.factory(this.db, {
      ...this.host.kernelOptions,
      secret: this.#secret,
      clock,
      randomBytes: (length) => random.bytes(length),
      wire: { ...this.host.kernelOptions.wire, replyTimeoutMs: 0x7fff_ffff },
    })
    this.kernel = kernel
    await kernel.boot()
    this.state = 'running'
    this.host.trace('up', { peer: this.name, boots: this.boots })
    if (this.setup) this.host.callback(`${this.name} setup`, () => this.setup!(this))
  }

  /**
   * Crashes: every link is cut at once (the other sides notice a latency later), timers
   * stop, the kernel is dropped. The database keeps what was written.
   * @throws SIM_PEER_STATE unless running
   */
  crash(): void {
    this.#down('crash', true)
  }

  /**
   * Leaves gracefully: the kernel closes, its wires send their close frames.
   * @throws SIM_PEER_STATE unless running
   */
  leave(): void {
    this.#down('leave', false)
  }

  /**
   * Comes back after a crash or leave: a new kernel on the same database and identity.
   * @throws SIM_PEER_STATE unless down
   */
  restart(): void {
    if (this.state !== 'down') {
      throw new SimError('SIM_PEER_STATE', `${this.name} is ${this.state}, not down`)
    }
    this.state = 'booting'
    this.host.callback(`${this.name} restart`, () => this.#closing.then(() => this.boot()))
  }

  #down(event: 'crash' | 'leave', crashed: boolean): void {
    if (this.state !== 'running') {
      throw new SimError('SIM_PEER_STATE', `${this.name} is ${this.state}, not running`)
    }
    const kernel = this.kernel!
    this.state = 'down'
    this.#clock?.cancelAll()
    this.host.trace(event, { peer: this.name })
    this.host.peerDown(this, crashed)
    this.kernel = undefined
    const clock = this.#clock
    this.#closing = kernel.close().then(() => clock?.cancelAll()) // and timers it armed closing
    this.host.callback(`${this.name} ${event}`, () => this.#closing)
  }

  /** Counts the blocks of a patch delivered to the kernel (see {@link BlockStats}). */
  inbound(msg: Uint8Array, replyExpected: boolean): void {
    if (!replyExpected) return // patches are requests
    let message: ReturnType<typeof decodeMessage>
    try {
      message = decodeMessage(msg, DEFAULT_SYNC_LIMITS)
    } catch {
      return // the kernel refuses it
    }
    if (message.type !== 'patch') return
    for (const segment of message.segments) {
      let blocks: Feed['blocks']
      try {
        blocks = Feed.from(segment.feed, { copy: false, verify: false }).blocks
      } catch {
        continue
      }
      for (const block of blocks) {
        this.blocks.received++
        const key = toHex(block.sig)
        if (this.#seen.has(key) || (block.key && bytesEqual(block.key, this.#pkBytes))) {
          this.blocks.duplicates++
        } else {
          this.#seen.add(key)
        }
      }
    }
  }

  /** Tracks a delivery into the kernel (see `trackedPlug`). */
  track(delivery: Promise<unknown>): void {
    this.host.track(delivery)
  }
}
