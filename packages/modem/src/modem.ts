import { EventEmitter } from 'node:events'
import {
  type FrameReceiver,
  type FrameWireOptions,
  frameWire,
  isPlug,
  type Plug,
} from '@picostack/net'
import DHT, { type DHTNode } from 'hyperdht'
import Hyperswarm, { type PeerDiscovery, type SwarmConnection } from 'hyperswarm'
import Protomux, { type Channel } from 'protomux'
import { ModemError } from './errors.ts'
import { topicKey } from './topic.ts'

/**
 * Protomux protocol name of a picostack wire. One channel per topic runs on each
 * connection, its channel id being the 32-byte topic.
 */
export const MODEM_PROTOCOL = 'picostack/wire/1'

/** The peer at the other end of one hyperswarm connection. */
export interface PeerConnection {
  /** The peer's hyperswarm (Noise) public key, 32 B. Stable while its swarm key is. */
  readonly remotePublicKey: Uint8Array
  /** True when this side dialed the connection. */
  readonly client: boolean
  /**
   * The peer's IP address as the connection's UDP stream shows it (hyperswarm's
   * `conn.rawStream.remoteHost`; behind a NAT the NAT's, through a blind relay the relay's),
   * when known. Pass it on: `({ address }) => kernel.spawnWire({ address })`, so that one
   * host holds at most the kernel's `maxSessionsPerAddress` sessions however many swarm
   * keys it makes.
   */
  readonly address: string | undefined
}

/** What a {@link SpawnWire} is told about the wire it makes. */
export interface WireInfo extends PeerConnection {
  /** The topic both peers joined, 32 B (the SHA-256 of a string topic). */
  readonly topic: Uint8Array
}

/**
 * Makes the local end of a new wire, e.g. `({ address }) => kernel.spawnWire({ address })`
 * or `() => hub.createWire()`. The modem opens the returned plug (it must not have a
 * handler yet) and carries its frames to the peer.
 */
export type SpawnWire = (info: WireInfo) => Plug

/** Options of {@link Modem56}. */
export interface ModemOptions {
  /**
   * A swarm to use instead of making one. The modem then leaves it running on
   * `destroy()` (it only leaves its topics). The DHT options below are ignored.
   */
  swarm?: Hyperswarm
  /**
   * HyperDHT bootstrap nodes, `'host:port'` or `{ host, port }`. Default: the public
   * HyperDHT (what a real user wants; tests pass a local testnet's `bootstrap`).
   */
  bootstrap?: Array<string | DHTNode>
  /** Address the DHT's UDP sockets bind to (`'127.0.0.1'` for a local testnet). */
  host?: string
  /** UDP port of the DHT node (default: any free port). */
  port?: number
  /**
   * 32-byte seed of the swarm key pair, so peers see the same `remotePublicKey` after a
   * restart. Default: a fresh random key pair.
   */
  seed?: Uint8Array
  /** Most connections the swarm keeps (hyperswarm's `maxPeers`, default 64). */
  maxPeers?: number
  /**
   * Longest pause between two lookups of a joined topic, ms (default 60 000). Lookups
   * repeat after 1 s, 2 s, 4 s... up to this, so peers that joined at the same moment
   * (each looking up before the other was announced) still find each other within
   * seconds; hyperswarm alone looks again only after 10 minutes.
   */
  lookupIntervalMs?: number
  /** Framing limits of every wire (`maxFrameBytes`, `replyTimeoutMs`, `maxPendingReplies`). */
  wire?: FrameWireOptions
}

/** Default longest pause between two lookups of a topic: 60 s. */
export const DEFAULT_LOOKUP_INTERVAL_MS = 60_000
/** First pause before looking a topic up again: 1 s (then doubling). */
const FIRST_LOOKUP_DELAY_MS = 1000

/** Events of a {@link Modem56}: `modem.on('wire', (info, plug) => ...)`. */
export interface ModemEvents {
  /** A hyperswarm connection opened (before any wire on it). */
  connection: [peer: PeerConnection]
  /** A connection closed; `error` is why, when it failed (`ECONNRESET`...). */
  disconnection: [peer: PeerConnection, error: Error | undefined]
  /** Both peers opened `info.topic` on a connection: a wire from `spawnWire` is live. */
  wire: [info: WireInfo, plug: Plug]
  /** A wire could not be made (`spawnWire` threw or returned no plug); its channel closed. */
  warning: [error: Error, info: WireInfo]
}

/** A joined topic: how to make its wires, and the wires (channels) it has now. */
interface TopicEntry {
  readonly topic: Uint8Array
  readonly spawnWire: SpawnWire
  readonly links: Set<ChannelLink>
  /** The next repeated lookup. */
  timer?: ReturnType<typeof setTimeout>
}

/** One topic channel on one connection, and the plug it carries once open. */
interface ChannelLink {
  readonly channel: Channel
  plug: Plug | undefined
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

/**
 * Joins hyperswarm topics and turns every connection into picostack wires.
 *
 * Hyperswarm keeps one encrypted connection per pair of peers, whatever topics they
 * share, so the modem runs a protomux channel per topic on it: when both peers joined
 * the topic, `spawnWire(info)` makes the local plug and its frames travel on that
 * channel (the same frames `streamWire` writes on a raw stream). Joining or leaving a
 * topic opens or closes only its channels; connections stay while hyperswarm keeps them.
 *
 * ```ts
 * const modem = new Modem56()                       // public HyperDHT
 * const leave = await modem.join('my-app', ({ address }) => kernel.spawnWire({ address }))
 * await leave()                                     // or modem.leave('my-app')
 * await modem.destroy()                             // closes every wire and the swarm
 * ```
 * Node only (hyperswarm needs UDP and sodium-native).
 */
export class Modem56 extends EventEmitter<ModemEvents> {
  /** The swarm carrying the connections (made by the modem unless given). */
  readonly swarm: Hyperswarm
  private readonly ownsSwarm: boolean
  private readonly wireOptions: FrameWireOptions | undefined
  private readonly lookupIntervalMs: number
  /** Joined topics by hex. */
  private readonly topics = new Map<string, TopicEntry>()
  /** The muxer of every open connection, and its peer. */
  private readonly muxes = new Map<Protomux, PeerConnection>()
  private destroyed = false

  /**
   * @param options - DHT settings (`bootstrap`, `host`, `port`), swarm identity
   * (`seed`), or an existing `swarm`; framing limits (`wire`)
   * @throws MODEM_INVALID_INPUT when `seed` is not 32 bytes or `lookupIntervalMs` is not a
   * positive number
   */
  constructor(options: ModemOptions = {}) {
    super()
    const { seed, lookupIntervalMs = DEFAULT_LOOKUP_INTERVAL_MS } = options
    if (seed !== undefined && !(seed instanceof Uint8Array && seed.length === 32)) {
      throw new ModemError('MODEM_INVALID_INPUT', 'seed must be 32 bytes')
    }
    if (!(typeof lookupIntervalMs === 'number' && lookupIntervalMs > 0)) {
      throw new ModemError('MODEM_INVALID_INPUT', 'lookupIntervalMs must be a positive number')
    }
    this.lookupIntervalMs = lookupIntervalMs
    this.wireOptions = options.wire
    this.ownsSwarm = options.swarm === undefined
    this.swarm =
      options.swarm ??
      new Hyperswarm({
        dht: new DHT({ bootstrap: options.bootstrap, host: options.host, port: options.port }),
        ...(seed ? { keyPair: DHT.keyPair(Buffer.from(seed)) } : {}),
        ...(options.maxPeers ? { maxPeers: options.maxPeers } : {}),
      })
    this.swarm.on('connection', this.onConnection)
  }

  /** The topics joined now, 32 B each. */
  get joinedTopics(): Uint8Array[] {
    return [...this.topics.values()].map((entry) => entry.topic)
  }

  /** Open hyperswarm connections. */
  get connectionCount(): number {
    return this.muxes.size
  }

  /** Live wires on `topic` (one per connected peer that joined it too). */
  wireCount(topic: string | Uint8Array): number {
    let count = 0
    for (const link of this.topics.get(hex(topicKey(topic)))?.links ?? []) if (link.plug) count++
    return count
  }

  /**
   * Announces and looks up `topic`, and makes a wire with `spawnWire` for every peer
   * (already connected or found later) that joined it too.
   *
   * @param topic - a string (hashed: SHA-256 of its UTF-8 bytes) or 32 bytes
   * @param spawnWire - makes the local plug of each new wire
   * @returns once the topic is announced on the DHT: a function that leaves it
   * @throws MODEM_INVALID_TOPIC when `topic` is not a string or 32 bytes
   * @throws MODEM_INVALID_INPUT when `spawnWire` is not a function
   * @throws MODEM_ALREADY_JOINED when this modem already joined `topic`
   * @throws MODEM_DESTROYED after `destroy()` (or when destroyed while joining)
   * @throws whatever hyperswarm throws when the announce fails (the topic is left again)
   */
  async join(topic: string | Uint8Array, spawnWire: SpawnWire): Promise<() => Promise<boolean>> {
    const key = topicKey(topic)
    if (typeof spawnWire !== 'function') {
      throw new ModemError('MODEM_INVALID_INPUT', 'spawnWire must be a function')
    }
    this.assertLive()
    const id = hex(key)
    if (this.topics.has(id)) throw new ModemError('MODEM_ALREADY_JOINED', `already joined ${id}`)
    const entry: TopicEntry = { topic: key, spawnWire, links: new Set() }
    this.topics.set(id, entry)
    for (const [mux, peer] of this.muxes) this.openChannel(mux, peer, entry)
    const discovery = this.swarm.join(Buffer.from(key))
    try {
      await discovery.flushed()
    } catch (err) {
      if (this.destroyed) throw new ModemError('MODEM_DESTROYED', 'destroyed while joining')
      await this.leave(key) // not half-joined: the caller may join again
      throw err
    }
    this.lookUpLater(entry, discovery, FIRST_LOOKUP_DELAY_MS)
    return () => this.leave(key)
  }

  /**
   * Stops announcing and looking up `topic` and closes its wires (a clean close, so
   * the peers' wires close without an error). Connections stay open for other topics.
   *
   * @returns true when the topic was joined
   * @throws MODEM_INVALID_TOPIC when `topic` is not a string or 32 bytes
   */
  async leave(topic: string | Uint8Array): Promise<boolean> {
    const key = topicKey(topic)
    const entry = this.topics.get(hex(key))
    if (!entry) return false
    this.topics.delete(hex(key))
    clearTimeout(entry.timer)
    closeLinks(entry)
    if (!this.swarm.destroyed) await this.swarm.leave(Buffer.from(key))
    return true
  }

  /**
   * Closes every wire, leaves every topic and destroys the swarm (unless it was given
   * in the options, then it stays up). Idempotent.
   */
  async destroy(): Promise<void> {
    if (this.destroyed) return
    this.destroyed = true
    this.swarm.off('connection', this.onConnection)
    const topics = [...this.topics.values()]
    this.topics.clear()
    for (const entry of topics) {
      clearTimeout(entry.timer)
      closeLinks(entry)
    }
    if (this.ownsSwarm) await this.swarm.destroy()
    else await Promise.all(topics.map((entry) => this.swarm.leave(Buffer.from(entry.topic))))
    this.muxes.clear()
  }

  /** Announces and looks `entry` up again after `delayMs`, then after twice that (capped). */
  private lookUpLater(entry: TopicEntry, discovery: PeerDiscovery, delayMs: number): void {
    if (this.topics.get(hex(entry.topic)) !== entry) return // left (or destroyed) meanwhile
    entry.timer = setTimeout(() => {
      discovery
        .refresh()
        .catch(() => undefined) // a failed lookup is retried at the next turn
        .then(() =>
          this.lookUpLater(entry, discovery, Math.min(delayMs * 2, this.lookupIntervalMs)),
        )
    }, delayMs)
    entry.timer.unref?.()
  }

  private assertLive(): void {
    if (this.destroyed || this.swarm.destroyed) {
      throw new ModemError('MODEM_DESTROYED', 'the modem or its swarm is destroyed')
    }
  }

  private readonly onConnection = (conn: SwarmConnection): void => {
    const peer: PeerConnection = {
      remotePublicKey: new Uint8Array(conn.remotePublicKey),
      client: conn.isInitiator,
      address: conn.rawStream?.remoteHost ?? undefined,
    }
    let failure: Error | undefined
    // Without a listener a late ECONNRESET would crash the process; keep why it closed.
    conn.on('error', (err: Error) => {
      failure = err
    })
    const mux = Protomux.from(conn)
    this.muxes.set(mux, peer)
    conn.once('close', () => {
      this.muxes.delete(mux)
      if (!this.destroyed) this.emit('disconnection', peer, failure)
    })
    // The peer opened a topic channel we have not opened: pair it if we joined the topic.
    mux.pair({ protocol: MODEM_PROTOCOL }, (id) => {
      const entry = this.topics.get(hex(id))
      if (entry) this.openChannel(mux, peer, entry)
    })
    this.emit('connection', peer)
    for (const entry of this.topics.values()) this.openChannel(mux, peer, entry)
  }

  /** Opens `entry`'s channel on a connection; the wire starts once the peer opens it too. */
  private openChannel(mux: Protomux, peer: PeerConnection, entry: TopicEntry): void {
    let receiver: FrameReceiver | undefined
    const channel = mux.createChannel({
      protocol: MODEM_PROTOCOL,
      id: Buffer.from(entry.topic),
      unique: true,
      onopen: () => {
        receiver = this.startWire(link, message, peer, entry)
      },
      onclose: () => {
        entry.links.delete(link)
        receiver?.end()
      },
    })
    if (!channel) return // already open on this connection
    const link: ChannelLink = { channel, plug: undefined }
    const message = channel.addMessage({ onmessage: (bytes) => receiver?.receive(bytes) })
    entry.links.add(link)
    channel.open()
  }

  /** Both sides opened the channel: spawn the plug and carry its frames. */
  private startWire(
    link: ChannelLink,
    message: { send(bytes: Uint8Array): boolean },
    peer: PeerConnection,
    entry: TopicEntry,
  ): FrameReceiver | undefined {
    const { channel } = link
    const info: WireInfo = { ...peer, topic: entry.topic }
    /** Frames of one event-loop turn go out as one protomux batch (one encrypted write). */
    let corked = false
    try {
      const plug = entry.spawnWire(info)
      if (!isPlug(plug)) throw new ModemError('MODEM_INVALID_INPUT', 'spawnWire returned no plug')
      const receiver = frameWire(
        plug,
        {
          write: (bytes) => {
            if (!corked) {
              corked = true
              channel.cork()
              setImmediate(() => {
                corked = false
                channel.uncork()
              })
            }
            message.send(bytes)
          },
          close: () => channel.close(),
        },
        this.wireOptions,
      )
      link.plug = plug
      this.emit('wire', info, plug)
      return receiver
    } catch (err) {
      channel.close()
      this.emit('warning', err instanceof Error ? err : new Error(String(err)), info)
      return undefined
    }
  }
}

/** Closes a topic's wires cleanly (close frame first), and channels not yet paired. */
function closeLinks(entry: TopicEntry): void {
  for (const link of [...entry.links]) {
    if (link.plug) link.plug.close()
    else link.channel.close()
  }
  entry.links.clear()
}
