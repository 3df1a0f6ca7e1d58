import { bytesEqual, type Feed, toHex } from '@picostack/feed'
import { addressScope, Hub, type Plug, type WireOptions } from '@picostack/net'
import type { Repo } from '@picostack/repo'
import type { Clock, Store } from '@picostack/store'
import { KernelError } from '../errors.ts'
import type { RandomBytes } from '../random.ts'
import { type Readable, Writable } from '../readable.ts'
import { type ChainSource, repoChainSource } from './chain-source.ts'
import {
  DEFAULT_SYNC_LIMITS,
  MIN_PATCH_BYTES,
  NODE_ID_BYTES,
  PATCH_OVERHEAD_BYTES,
  SEGMENT_OVERHEAD_BYTES,
  type SyncLimits,
} from './limits.ts'
import {
  compareBytes,
  Session,
  type SessionHost,
  type SessionOrigin,
  type SessionStats,
} from './session.ts'

/** A connected peer (its hello arrived and it was admitted). */
export interface Peer {
  /** The peer's node id, hex (16 B, random per kernel run). */
  readonly id: string
  /** When the wire opened, ms since the epoch. */
  readonly connectedAt: number
  /** The remote's address as the transport gave it to `spawnWire({ address })`, if it did. */
  readonly address: string | undefined
  /** Message, byte and block counters of this session. */
  readonly stats: SessionStats
  /**
   * Sends an application query; resolves with the peer's answer (its `onquery`).
   * @throws KERNEL_REMOTE_ERROR when the peer answers with an error
   * @throws NET_DISCONNECTED / NET_TIMEOUT when the wire fails
   */
  query(payload: Uint8Array): Promise<Uint8Array>
  /** Sends a signalling message (docs/webrtc.md); one-way, dropped once disconnected. */
  signal(payload: Uint8Array): void
  /** Disconnects the peer. */
  close(reason?: Error): void
}

/** What the sync engine calls back into (the kernel). */
export interface SyncApp {
  readonly store: Store
  readonly repo: Repo
  onconnect(peer: Peer): void
  ondisconnect(peer: Peer, reason: Error | undefined): void
  onrefuse(peer: Peer, reason: Error | undefined): void
  onquery(payload: Uint8Array, peer: Peer): Uint8Array | Promise<Uint8Array>
  /**
   * True when `peer` is reached over a direct link of its own (WebRTC) rather than through
   * a relay: relayed changes are pushed to such peers first (`eagerPeers`).
   */
  isDirect?(peer: Peer): boolean
}

/** Options of `spawnWire()`: what the transport knows of the remote. */
export interface SpawnOptions {
  /**
   * The remote's address as the transport knows it (e.g. `socket.remoteAddress`, a relay
   * client's IP): at most `maxSessionsPerAddress` sessions share one. Node ids are chosen
   * by the peer and cannot serve as this key.
   */
  address?: string
}

/** Options of the sync engine. */
export interface SyncOptions {
  /** Protocol limits (docs/protocol.md); unset fields take {@link DEFAULT_SYNC_LIMITS}. */
  limits?: Partial<SyncLimits>
  /** Options of every wire `spawnWire()` makes (reply timeout, pending replies). */
  wire?: Omit<WireOptions, 'id'>
  /** Time a spawned wire may stay unopened, ms (default 30 000). */
  openTimeoutMs?: number
}

/** Where the sync engine takes time and randomness (the kernel's `clock` and `randomBytes`). */
export interface SyncEnvironment {
  /** Every sync timer: rate limits, pacing, handshake and idle timeouts, keepalive pings. */
  clock: Clock
  /** Node id and connection nonces. */
  randomBytes: RandomBytes
}

/** Longest delay a JavaScript timer accepts (~24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1

function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  return a.map((byte, i) => byte ^ (b[i] ?? 0))
}

/** The connection's name, the same at both ends: our nonce XOR theirs. */
function connectionKey(session: Session): Uint8Array {
  return xor(session.nonce, session.remote!.nonce)
}

/**
 * Runs the sync sessions of one kernel: a hub whose every wire is a session, the set of
 * admitted peers (one connection per remote node id), and gossip of changed chains.
 */
export class SyncEngine implements SessionHost {
  /** Random per kernel run (16 B). */
  readonly nodeId: Uint8Array
  readonly limits: SyncLimits
  readonly clock: Clock
  readonly randomBytes: RandomBytes
  readonly #hub: Hub
  #source: ChainSource | undefined
  readonly #sessions = new WeakMap<Plug, Session>()
  readonly #live = new Set<Session>()
  readonly #peers = new Map<string, Session>()
  readonly #connections = new Writable<Peer[]>([])
  /** Wires spawned and not closed yet (sessions, handshaken or not), in total and per address. */
  #slots = 0
  readonly #perAddress = new Map<string, number>()
  /**
   * Announced chains (hex) asked for with `want`: the height asked for, when (ms), and the
   * session whose announcement it was; how many each session holds.
   */
  readonly #wants = new Map<string, { height: number; at: number; by: Session }>()
  readonly #wantsBy = new Map<Session, number>()

  constructor(
    private readonly app: SyncApp,
    options: SyncOptions,
    { clock, randomBytes }: SyncEnvironment,
  ) {
    this.clock = clock
    this.randomBytes = randomBytes
    this.nodeId = this.randomBytes(NODE_ID_BYTES)
    this.limits = { ...DEFAULT_SYNC_LIMITS, ...options.limits }
    for (const [name, value] of Object.entries(this.limits)) {
      // eagerPeers may be 0: relayed changes are then only announced (a relay's choice).
      if (!Number.isFinite(value) || value < 0 || (value === 0 && name !== 'eagerPeers')) {
        throw new KernelError('KERNEL_INVALID_INPUT', `limit ${name} must be a positive number`)
      }
      if (name.endsWith('Ms') && value > MAX_TIMER_MS) {
        throw new KernelError('KERNEL_INVALID_INPUT', `limit ${name} must be <= ${MAX_TIMER_MS} ms`)
      }
    }
    if (this.limits.keepaliveMs >= this.limits.idleTimeoutMs) {
      throw new KernelError('KERNEL_INVALID_INPUT', 'keepaliveMs must be below idleTimeoutMs')
    }
    const { maxRanges, maxItems, listItems } = this.limits
    if (maxRanges < 16 || maxItems < listItems) {
      throw new KernelError(
        'KERNEL_INVALID_INPUT',
        'maxRanges must hold a split (>= 16) and maxItems a list (>= listItems)',
      )
    }
    const { maxPatchBytes, maxPatchChains, maxMessageBytes } = this.limits
    const framing = PATCH_OVERHEAD_BYTES + maxPatchChains * SEGMENT_OVERHEAD_BYTES
    if (maxPatchBytes < MIN_PATCH_BYTES || maxMessageBytes < maxPatchBytes + framing) {
      throw new KernelError(
        'KERNEL_INVALID_INPUT',
        `maxPatchBytes must hold the largest block (>= ${MIN_PATCH_BYTES}) and fit in maxMessageBytes with ${PATCH_OVERHEAD_BYTES} B + ${SEGMENT_OVERHEAD_BYTES} B per segment (maxPatchChains) to spare`,
      )
    }
    this.#hub = new Hub({
      onmessage: (msg, answer, node) => this.#session(node).receive(msg, answer),
      openTimeoutMs: options.openTimeoutMs,
      wire: options.wire,
    })
  }

  /** The app's chains, read through {@link ChainSource} (made on first use: the kernel makes its repo after this engine). */
  get source(): ChainSource {
    this.#source ??= repoChainSource(this.app.repo)
    return this.#source
  }

  /** The admitted peers, as a readable store (fires at once and on every change). */
  get connections(): Readable<Peer[]> {
    return this.#connections
  }

  /**
   * A new wire whose other end, once opened, starts a session. Past `maxSessions` (or
   * `maxSessionsPerAddress` for `address`), the session refuses itself when the wire opens
   * (`KERNEL_TOO_MANY_SESSIONS`, sent to the peer too). A wire whose peer's hello has not
   * arrived within `handshakeTimeoutMs` is destroyed (`KERNEL_HANDSHAKE_TIMEOUT`).
   */
  spawnWire({ address }: SpawnOptions = {}): Plug {
    const { maxSessions, maxSessionsPerAddress, handshakeTimeoutMs } = this.limits
    // Counted by scope: an IPv6 address by its /64, an IPv4-mapped one as IPv4.
    const scope = address === undefined ? undefined : addressScope(address)
    const sharing = scope === undefined ? 0 : (this.#perAddress.get(scope) ?? 0)
    const refusal =
      this.#slots >= maxSessions
        ? new KernelError('KERNEL_TOO_MANY_SESSIONS', `already ${maxSessions} sessions`)
        : sharing >= maxSessionsPerAddress
          ? new KernelError(
              'KERNEL_TOO_MANY_SESSIONS',
              `already ${maxSessionsPerAddress} sessions from ${scope}`,
            )
          : undefined
    let session: Session | undefined
    const plug = this.#hub.createWire((node) => {
      session = this.#session(node, { address })
      if (refusal) session.refuse(refusal)
      else session.start()
    })
    if (refusal) return plug
    this.#slots++
    if (scope !== undefined) this.#perAddress.set(scope, sharing + 1)
    const timer = this.clock.setTimeout(() => {
      if (session?.remote) return
      const reason = new KernelError(
        'KERNEL_HANDSHAKE_TIMEOUT',
        `no hello within ${handshakeTimeoutMs} ms`,
      )
      plug.destroy(reason)
    }, handshakeTimeoutMs)
    plug.closed.then(() => {
      this.clock.clearTimeout(timer)
      this.#slots--
      if (scope === undefined) return
      const left = (this.#perAddress.get(scope) ?? 1) - 1
      if (left === 0) this.#perAddress.delete(scope)
      else this.#perAddress.set(scope, left)
    })
    return plug
  }

  #session(node: Plug, origin?: SessionOrigin): Session {
    let session = this.#sessions.get(node)
    if (!session) {
      session = new Session(node, this, origin)
      this.#sessions.set(node, session)
      this.#live.add(session)
    }
    return session
  }

  /**
   * Tells every admitted peer but `source` that chain `chainId` changed here. A change made
   * here (no `source`) is pushed to every peer; a relayed one to `eagerPeers` of them (direct
   * links first) and announced to the others with `have`, so a block crosses each link
   * about once however dense the mesh.
   */
  announce(chainId: Uint8Array, source?: Session): void {
    this.#announceKey(toHex(chainId), source)
  }

  /** {@link SyncEngine.announce} of chain `chainKey` (hex). */
  #announceKey(chainKey: string, source?: Session): void {
    if (!source) {
      for (const session of this.#peers.values()) session.touch(chainKey, true)
      return
    }
    if (this.#peers.size === 1 && this.#peers.values().next().value === source) return // no one else
    const others = [...this.#peers.values()].filter((session) => session !== source)
    const direct = this.app.isDirect
    if (direct)
      others.sort((a, b) => Number(direct.call(this.app, b)) - Number(direct.call(this.app, a)))
    for (const [i, session] of others.entries()) {
      session.touch(chainKey, i < this.limits.eagerPeers)
    }
  }

  claimWant(chainKey: string, height: number, by: Session): boolean {
    const now = this.clock.now()
    const asked = this.#wants.get(chainKey)
    if (asked && asked.height >= height && now - asked.at < this.limits.wantRetryMs) return false
    // Insertion order is age order: the expired ones go first.
    for (const [key, { at }] of this.#wants) {
      if (now - at < this.limits.wantRetryMs) break
      this.#forgetWant(key)
    }
    if (!asked && this.#wants.size >= this.limits.maxWants) return false // the next have asks
    // One peer's announcements take at most a quarter of the table, so a peer announcing
    // thousands of chains it never sends cannot crowd out what honest peers announce.
    const share = Math.max(1, this.limits.maxWants >> 2)
    if (asked?.by !== by && (this.#wantsBy.get(by) ?? 0) >= share) return false
    this.#forgetWant(chainKey) // re-inserted last: the youngest
    this.#wants.set(chainKey, { height, at: now, by })
    this.#wantsBy.set(by, (this.#wantsBy.get(by) ?? 0) + 1)
    return true
  }

  /** Drops the want of chain `chainKey` (hex), if any, from the table and its session's count. */
  #forgetWant(chainKey: string): void {
    const asked = this.#wants.get(chainKey)
    if (!asked) return
    this.#wants.delete(chainKey)
    const left = (this.#wantsBy.get(asked.by) ?? 1) - 1
    if (left > 0) this.#wantsBy.set(asked.by, left)
    else this.#wantsBy.delete(asked.by)
  }

  async ingest(
    feed: Feed,
    chainId: Uint8Array,
    chainKey: string,
    height: number,
    source: Session,
  ): Promise<number> {
    // The session verified every signature (in parallel, ahead of the store's lock).
    const { merged, chainId: mergedInto } = await this.app.store.apply(feed, {
      chainId,
      height,
      verified: true,
    })
    if (merged.length === 0) return 0
    const key = mergedInto && !bytesEqual(mergedInto, chainId) ? toHex(mergedInto) : chainKey
    this.#forgetWant(key)
    this.#announceKey(key, source)
    return merged.length
  }

  admit(session: Session): KernelError | undefined {
    const remote = session.remote!
    if (bytesEqual(remote.nodeId, this.nodeId)) {
      return new KernelError('KERNEL_SELF_WIRE', 'this kernel is wired to itself')
    }
    const existing = this.#peers.get(session.id)
    if (existing && !existing.closed) {
      // Both ends keep the connection with the smaller key, so they close the same one.
      if (compareBytes(connectionKey(existing), connectionKey(session)) <= 0) {
        return new KernelError('KERNEL_DUPLICATE_PEER', `already connected to ${session.id}`)
      }
      existing.close(new KernelError('KERNEL_DUPLICATE_PEER', `a newer connection replaces it`))
    }
    this.#peers.set(session.id, session)
    session.admitted = true
    this.#publish()
    this.#call(() => this.app.onconnect(session))
    return undefined
  }

  async answer(payload: Uint8Array, session: Session): Promise<Uint8Array> {
    return this.app.onquery(payload, session)
  }

  /**
   * The handler of signalling messages (the kernel's `Signalling`); it throws typed errors
   * for bad ones, which refuse them like any bad message.
   */
  onsignal: ((payload: Uint8Array, peer: Peer) => void) | undefined

  signal(payload: Uint8Array, session: Session): void {
    if (!this.onsignal) throw new KernelError('KERNEL_PROTOCOL', 'no signalling here')
    this.onsignal(payload, session)
  }

  leave(session: Session, reason: Error | undefined): void {
    this.#live.delete(session)
    if (!session.admitted) {
      this.#call(() => this.app.onrefuse(session, reason))
      return
    }
    if (this.#peers.get(session.id) === session) {
      this.#peers.delete(session.id)
      this.#publish()
    }
    this.#call(() => this.app.ondisconnect(session, reason))
  }

  /** Runs a hook; its failure is the application's and never breaks a session. */
  #call(hook: () => void): void {
    try {
      hook()
    } catch {
      // ignored: hooks must not throw into the protocol
    }
  }

  #publish(): void {
    this.#connections.set([...this.#peers.values()])
  }

  /** Closes every wire and refuses new ones. */
  close(): void {
    this.#hub.close(new KernelError('KERNEL_CLOSED', 'the kernel closed'))
    for (const session of this.#live) session.close()
  }
}
