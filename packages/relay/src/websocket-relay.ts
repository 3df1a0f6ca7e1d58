/**
 * The WebSocket side of a relay: browsers (which cannot join hyperswarm) connect here,
 * and each connection becomes a wire from `spawnWire()`, under limits that keep one
 * misbehaving client from hurting the others.
 */
import { EventEmitter } from 'node:events'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import {
  DEFAULT_MAX_FRAME_BYTES,
  type FrameWireOptions,
  isPlug,
  type Plug,
  VARINT_MAX_BYTES,
  wsWire,
} from '@picostack/net'
import { type WebSocket, WebSocketServer } from 'ws'
import { RelayError } from './errors.ts'

/** Bounds of a {@link WebSocketRelay}; every one is per relay unless it says otherwise. */
export interface RelayLimits {
  /** Most open WebSocket connections (default 256). Beyond it, upgrades get HTTP 503. */
  maxConnections: number
  /** Most open connections from one IP address (default 16). Beyond it: HTTP 503. */
  maxConnectionsPerIp: number
  /**
   * Largest WebSocket message, bytes (default 1 MiB + 9: one net frame of the default
   * `maxFrameBytes` with its header). A larger one closes that connection with 1009.
   */
  maxMessageBytes: number
  /** Token bucket per connection: messages it may send at once (default 2048). */
  messageBurst: number
  /** Token bucket per connection: messages refilled per second (default 1024). */
  messagesPerSec: number
  /** Token bucket per connection: bytes refilled per second (default 8 MiB; burst = 4 messages). */
  bytesPerSec: number
  /**
   * Ping every connection this often, ms (default 30 000); one that has not answered the
   * previous ping is dropped. Browsers answer pings by themselves.
   */
  pingIntervalMs: number
  /** Longest wait for a client's HTTP upgrade headers, ms (default 10 000). */
  headersTimeoutMs: number
}

/** Frame header bytes around a frame's payload: varint length + ports + flags. */
const FRAME_OVERHEAD_BYTES = VARINT_MAX_BYTES + 5

/** The defaults of {@link RelayLimits}. */
export const DEFAULT_RELAY_LIMITS: Readonly<RelayLimits> = Object.freeze({
  maxConnections: 256,
  maxConnectionsPerIp: 16,
  maxMessageBytes: DEFAULT_MAX_FRAME_BYTES + FRAME_OVERHEAD_BYTES,
  messageBurst: 2048,
  messagesPerSec: 1024,
  bytesPerSec: 8 * 1024 * 1024,
  pingIntervalMs: 30_000,
  headersTimeoutMs: 10_000,
})

/** WebSocket close code for a client that broke a relay limit (policy violation). */
export const CLOSE_POLICY_VIOLATION = 1008
/** WebSocket close code when the relay shuts down (going away). */
export const CLOSE_GOING_AWAY = 1001

/** Options of {@link WebSocketRelay.listen}. */
export interface RelayServerOptions {
  /** TCP port (default 0: any free port; read it back from `relay.port`). */
  port?: number
  /** Address to bind (default: every interface). */
  host?: string
  /** Limits; missing fields take {@link DEFAULT_RELAY_LIMITS}. */
  limits?: Partial<RelayLimits>
  /** Framing options of every wire (`maxFrameBytes`, `replyTimeoutMs`, `maxPendingReplies`). */
  wire?: FrameWireOptions
}

/** Why a client was turned away or cut off (the `rejected` event). */
export type RelayRejection =
  | 'MAX_CONNECTIONS'
  | 'MAX_CONNECTIONS_PER_IP'
  | 'FLOOD'
  | 'TOO_LARGE'
  | 'UNRESPONSIVE'

/** Events of a {@link WebSocketRelay}. */
export interface RelayEvents {
  /** A client connected; its wire is live. */
  connection: [plug: Plug, ip: string]
  /** A client was refused or dropped by a limit. */
  rejected: [reason: RelayRejection, ip: string]
  /** `spawnWire` threw or returned no plug: that client was closed (1011). */
  warning: [error: Error]
}

/** A token bucket refilled continuously: `capacity` at most, `ratePerSec` per second. */
class Bucket {
  #tokens: number
  #at = Date.now()

  constructor(
    private readonly capacity: number,
    private readonly ratePerSec: number,
  ) {
    this.#tokens = capacity
  }

  /** Takes `amount` tokens; false (taking none) when there are not that many. */
  take(amount: number): boolean {
    const now = Date.now()
    this.#tokens = Math.min(
      this.capacity,
      this.#tokens + ((now - this.#at) * this.ratePerSec) / 1000,
    )
    this.#at = now
    if (this.#tokens < amount) return false
    this.#tokens -= amount
    return true
  }
}

function checkLimits(limits: RelayLimits): void {
  for (const [name, value] of Object.entries(limits)) {
    if (!(Number.isInteger(value) && value > 0)) {
      throw new RelayError('RELAY_INVALID_INPUT', `relay limit ${name} must be a positive integer`)
    }
  }
}

/** Refuses an upgrade request with a bare HTTP status, then drops the socket. */
function refuse(socket: Socket, status: string): void {
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
  socket.destroySoon()
}

/**
 * Serves WebSocket clients and turns each connection into a wire from `spawnWire()`
 * (e.g. `() => kernel.spawnWire()`): one binary message per net frame, as
 * {@link wsWire} in the browser sends them. Limits ({@link RelayLimits}): connections in
 * total and per IP (HTTP 503 beyond them), message size (close 1009), a message and a
 * byte rate per connection (close 1008), unanswered pings (dropped). Malformed frames or
 * text messages close only that connection (1002). Plain HTTP requests get 426.
 *
 * ```ts
 * const relay = await WebSocketRelay.listen(() => kernel.spawnWire(), { port: 8080 })
 * console.log(relay.url)       // ws://0.0.0.0:8080/
 * await relay.close()
 * ```
 */
export class WebSocketRelay extends EventEmitter<RelayEvents> {
  /** The limits in force. */
  readonly limits: Readonly<RelayLimits>
  readonly #server: Server
  readonly #wss: WebSocketServer
  readonly #spawnWire: () => Plug
  readonly #wireOptions: FrameWireOptions | undefined
  readonly #perIp = new Map<string, number>()
  /** Each client's address, and whether it answered the latest ping. */
  readonly #clients = new WeakMap<WebSocket, { ip: string; alive: boolean }>()
  readonly #pinger: ReturnType<typeof setInterval>
  #closing: Promise<void> | undefined

  private constructor(spawnWire: () => Plug, options: RelayServerOptions) {
    super()
    this.limits = Object.freeze({ ...DEFAULT_RELAY_LIMITS, ...options.limits })
    checkLimits(this.limits)
    this.#spawnWire = spawnWire
    this.#wireOptions = options.wire
    this.#server = createServer((_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain', connection: 'close' })
      res.end('picostack relay: connect with a WebSocket\n')
    })
    this.#server.headersTimeout = this.limits.headersTimeoutMs
    this.#server.requestTimeout = this.limits.headersTimeoutMs
    // Not HTTP at all: node answers 400 and drops the socket; keep that from throwing.
    this.#server.on('clientError', (_err, socket) => socket.destroy())
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.limits.maxMessageBytes,
      perMessageDeflate: false,
    })
    this.#server.on('upgrade', (req, socket, head) => this.#upgrade(req, socket as Socket, head))
    this.#pinger = setInterval(() => this.#ping(), this.limits.pingIntervalMs)
    this.#pinger.unref()
  }

  /**
   * Starts a relay server.
   * @param spawnWire - makes the local plug of each client's wire (must have no handler yet)
   * @returns once listening
   * @throws RELAY_INVALID_INPUT when `spawnWire` is not a function or a limit is not a
   *   positive integer
   * @throws the server's error when it cannot listen (`EADDRINUSE`...)
   */
  static async listen(
    spawnWire: () => Plug,
    options: RelayServerOptions = {},
  ): Promise<WebSocketRelay> {
    if (typeof spawnWire !== 'function') {
      throw new RelayError('RELAY_INVALID_INPUT', 'spawnWire must be a function')
    }
    const relay = new WebSocketRelay(spawnWire, options)
    const server = relay.#server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(options.port ?? 0, options.host, () => {
        server.off('error', reject)
        resolve()
      })
    })
    return relay
  }

  /** The TCP port it listens on. */
  get port(): number {
    return (this.#server.address() as AddressInfo).port
  }

  /** `ws://host:port/` (IPv6 hosts in brackets). */
  get url(): string {
    const { address, family } = this.#server.address() as AddressInfo
    return `ws://${family === 'IPv6' ? `[${address}]` : address}:${this.port}/`
  }

  /** Open client connections. */
  get connectionCount(): number {
    return this.#wss.clients.size
  }

  /**
   * Closes every client (1001) and stops listening. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#pinger)
      for (const socket of this.#wss.clients) socket.close(CLOSE_GOING_AWAY, 'relay closing')
      await new Promise<void>((resolve) => this.#wss.close(() => resolve()))
      this.#server.closeAllConnections()
      await new Promise<void>((resolve) => this.#server.close(() => resolve()))
    })()
    return this.#closing
  }

  #upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', () => socket.destroy())
    const ip = req.socket.remoteAddress ?? 'unknown'
    if (this.#closing) {
      refuse(socket, '503 Service Unavailable')
      return
    }
    const fromIp = this.#perIp.get(ip) ?? 0
    const reason: RelayRejection | undefined =
      this.#wss.clients.size >= this.limits.maxConnections
        ? 'MAX_CONNECTIONS'
        : fromIp >= this.limits.maxConnectionsPerIp
          ? 'MAX_CONNECTIONS_PER_IP'
          : undefined
    if (reason) {
      this.emit('rejected', reason, ip)
      refuse(socket, '503 Service Unavailable')
      return
    }
    // Counted now, so upgrades racing in the same turn see it.
    this.#perIp.set(ip, fromIp + 1)
    let counted = true
    const uncount = () => {
      if (!counted) return
      counted = false
      const left = (this.#perIp.get(ip) ?? 1) - 1
      if (left > 0) this.#perIp.set(ip, left)
      else this.#perIp.delete(ip)
    }
    socket.once('close', uncount)
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      ws.once('close', uncount)
      this.#accept(ws, ip)
    })
  }

  #accept(ws: WebSocket, ip: string): void {
    const client = { ip, alive: true }
    this.#clients.set(ws, client)
    ws.on('pong', () => {
      client.alive = true
    })
    // An oversize message: ws closes with 1009 and emits this error.
    ws.on('error', (err: Error & { code?: string }) => {
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.emit('rejected', 'TOO_LARGE', ip)
    })
    const messages = new Bucket(this.limits.messageBurst, this.limits.messagesPerSec)
    const bytes = new Bucket(this.limits.maxMessageBytes * 4, this.limits.bytesPerSec)
    // Registered before the wire's own listener, so a flood is cut before it is decoded.
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
      const size = Array.isArray(data)
        ? data.reduce((n, part) => n + part.length, 0)
        : data.byteLength
      if (messages.take(1) && bytes.take(size)) return
      this.emit('rejected', 'FLOOD', ip)
      ws.close(CLOSE_POLICY_VIOLATION, 'rate limit')
      ws.terminate()
    })
    let plug: Plug
    try {
      plug = this.#spawnWire()
      if (!isPlug(plug)) throw new RelayError('RELAY_INVALID_INPUT', 'spawnWire returned no plug')
      wsWire(plug, ws, this.#wireOptions)
    } catch (err) {
      ws.close(1011, 'relay error')
      this.emit('warning', err instanceof Error ? err : new Error(String(err)))
      return
    }
    this.emit('connection', plug, ip)
  }

  #ping(): void {
    for (const ws of this.#wss.clients) {
      const client = this.#clients.get(ws)
      if (!client) continue // still in its first turn
      if (!client.alive) {
        this.emit('rejected', 'UNRESPONSIVE', client.ip)
        ws.terminate()
        continue
      }
      client.alive = false
      ws.ping()
    }
  }
}
