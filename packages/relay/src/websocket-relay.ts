/**
 * The WebSocket side of a relay: browsers (which cannot join hyperswarm) connect here,
 * and each connection becomes a wire from `spawnWire()`, under limits
 * ({@link RelayLimits}) that keep one client, or many from one address, from hurting the
 * others.
 */
import { EventEmitter } from 'node:events'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import {
  DEFAULT_HALF_OPEN_TIMEOUT_MS,
  type FrameWireOptions,
  isPlug,
  type Plug,
  wsWire,
} from '@picostack/net'
import { type WebSocket, WebSocketServer } from 'ws'
import { RelayError } from './errors.ts'
import { type RelayLimits, relayLimits } from './limits.ts'
import { type SlotHolder, Slots } from './slots.ts'
import { TokenBucket } from './token-bucket.ts'

/** WebSocket close code for a client that broke a relay limit (policy violation). */
export const CLOSE_POLICY_VIOLATION = 1008
/** WebSocket close code when the relay shuts down (going away). */
export const CLOSE_GOING_AWAY = 1001

/** What the relay knows of a client when it makes the client's wire. */
export interface RelayClient {
  /** The client's IP address, as its TCP connection shows it (behind a proxy: the proxy's). */
  readonly address: string
}

/**
 * Makes the local plug of a client's wire; it must have no handler yet
 * (`({ address }) => kernel.spawnWire({ address })`, `() => hub.createWire()`).
 */
export type SpawnClientWire = (client: RelayClient) => Plug

/** Options of {@link WebSocketRelay.listen}. */
export interface RelayServerOptions {
  /** TCP port (default 0: any free port; read it back from `relay.port`). */
  port?: number
  /** Address to bind (default: every interface). */
  host?: string
  /** Limits; missing fields take {@link DEFAULT_RELAY_LIMITS}. */
  limits?: Partial<RelayLimits>
  /** Framing options of every wire (`maxFrameBytes`, `replyTimeoutMs`, `maxPendingReplies`...). */
  wire?: FrameWireOptions
}

/** Why a client was turned away or cut off (the `rejected` event). */
export type RelayRejection =
  /** `maxConnections` reached and no connection idle: HTTP 503. */
  | 'MAX_CONNECTIONS'
  /** `maxConnectionsPerIp` reached for its address and none of them idle: HTTP 503. */
  | 'MAX_CONNECTIONS_PER_IP'
  /** Over its message or byte rate: destroyed (1008 sent first). */
  | 'FLOOD'
  /** A message over `maxMessageBytes`: destroyed (1009 sent first). */
  | 'TOO_LARGE'
  /** No pong to the previous ping: destroyed. */
  | 'UNRESPONSIVE'
  /** Upgrade headers not complete within `headersTimeoutMs`: destroyed. */
  | 'HEADERS_TIMEOUT'
  /** No message within `idleTimeoutMs`: destroyed (1008 sent first). */
  | 'IDLE_TIMEOUT'
  /** Idle (`idleAfterMs`) longest when a new client needed its slot: destroyed (1008 sent first). */
  | 'IDLE_EVICTED'

/** Events of a {@link WebSocketRelay}. */
export interface RelayEvents {
  /** A client connected; its wire is live. */
  connection: [plug: Plug, ip: string]
  /** A client was refused or dropped by a limit. */
  rejected: [reason: RelayRejection, ip: string]
  /** `spawnWire` threw or returned no plug: that client was closed (1011). */
  warning: [error: Error]
}

/** One client's TCP connection: upgrading, then a WebSocket. */
class Connection implements SlotHolder {
  /** When it last sent a message; set when the upgrade completes. */
  lastMessageAt: number | undefined
  /** Its WebSocket, once upgraded. */
  ws: WebSocket | undefined
  /** Whether it answered the latest ping. */
  alive = true
  /** The headers timeout, then the idle timeout. */
  timer: ReturnType<typeof setTimeout> | undefined

  constructor(
    readonly ip: string,
    readonly socket: Socket,
  ) {}
}

/** Refuses a connection with a bare HTTP status, then drops the socket. */
function refuse(socket: Socket, status: string): void {
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
  socket.destroySoon()
}

/**
 * Serves WebSocket clients and turns each connection into a wire from `spawnWire()`
 * (e.g. `({ address }) => kernel.spawnWire({ address })`): one binary message per net
 * frame, as {@link wsWire} in the browser sends them. Limits ({@link RelayLimits}):
 * connections in total and per IP, counted from the TCP connection on (when full, the
 * connection idle longest gives up its slot; when none is idle, HTTP 503), upgrade
 * headers within `headersTimeoutMs`, message size (1009), a message and a byte rate per
 * connection (1008), unanswered pings, and silence (`idleTimeoutMs`). A client that breaks
 * one is destroyed, not left half-closed. Malformed frames or text messages close only
 * that connection (1002). Plain HTTP requests get 426.
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
  readonly #spawnWire: SpawnClientWire
  readonly #wireOptions: FrameWireOptions | undefined
  readonly #slots: Slots<Connection>
  /** Every connection holding a slot, by its socket. */
  readonly #connections = new Map<Socket, Connection>()
  readonly #pinger: ReturnType<typeof setInterval>
  #closing: Promise<void> | undefined

  private constructor(spawnWire: SpawnClientWire, options: RelayServerOptions) {
    super()
    this.limits = relayLimits(options.limits)
    this.#slots = new Slots(this.limits)
    this.#spawnWire = spawnWire
    this.#wireOptions = options.wire
    this.#server = createServer((req, res) => {
      this.#stopTimer(req.socket)
      res.writeHead(426, { 'content-type': 'text/plain', connection: 'close' })
      res.end('picostack relay: connect with a WebSocket\n')
    })
    // Node checks its own header timeouts only every 30 s; the relay's timer is exact.
    this.#server.headersTimeout = this.limits.headersTimeoutMs
    this.#server.requestTimeout = this.limits.headersTimeoutMs
    this.#server.on('connection', (socket: Socket) => this.#connect(socket))
    // Not HTTP at all: node answers 400 and drops the socket; keep that from throwing.
    this.#server.on('clientError', (_err, socket) => socket.destroy())
    this.#server.on('upgrade', (req, socket, head) => this.#upgrade(req, socket as Socket, head))
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.limits.maxMessageBytes,
      perMessageDeflate: false,
    })
    this.#pinger = setInterval(() => this.#ping(), this.limits.pingIntervalMs)
    this.#pinger.unref()
  }

  /**
   * Starts a relay server.
   * @param spawnWire - makes the local plug of each client's wire (must have no handler yet)
   * @returns once listening
   * @throws RELAY_INVALID_INPUT when `spawnWire` is not a function or a limit is out of
   *   range (see {@link RelayLimits})
   * @throws the server's error when it cannot listen (`EADDRINUSE`...)
   */
  static async listen(
    spawnWire: SpawnClientWire,
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

  /** Open WebSocket connections. */
  get connectionCount(): number {
    return this.#wss.clients.size
  }

  /** Slots held: open WebSockets and connections still upgrading. */
  get slotCount(): number {
    return this.#slots.size
  }

  /**
   * Closes every client (1001) and stops listening; a client that has not answered the
   * close frame within the wires' `halfOpenTimeoutMs` (default 5 s) is destroyed. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#pinger)
      const halfOpenMs = this.#wireOptions?.halfOpenTimeoutMs ?? DEFAULT_HALF_OPEN_TIMEOUT_MS
      for (const connection of this.#connections.values()) {
        clearTimeout(connection.timer)
        const { ws } = connection
        if (!ws) {
          connection.socket.destroy()
          continue
        }
        ws.close(CLOSE_GOING_AWAY, 'relay closing')
        setTimeout(() => ws.terminate(), halfOpenMs).unref()
      }
      await new Promise<void>((resolve) => this.#wss.close(() => resolve()))
      this.#server.closeAllConnections()
      await new Promise<void>((resolve) => this.#server.close(() => resolve()))
    })()
    return this.#closing
  }

  /** A TCP connection: it takes a slot (or an idle one's) and has `headersTimeoutMs` to upgrade. */
  #connect(socket: Socket): void {
    socket.on('error', () => socket.destroy())
    if (this.#closing) {
      socket.destroy()
      return
    }
    const connection = new Connection(socket.remoteAddress ?? 'unknown', socket)
    const admission = this.#slots.admit(connection)
    if (!admission.admitted) {
      this.emit('rejected', admission.refusal, connection.ip)
      refuse(socket, '503 Service Unavailable')
      return
    }
    if (admission.evicted) this.#drop(admission.evicted, 'IDLE_EVICTED')
    this.#connections.set(socket, connection)
    socket.once('close', () => this.#release(connection))
    connection.timer = setTimeout(
      () => this.#drop(connection, 'HEADERS_TIMEOUT'),
      this.limits.headersTimeoutMs,
    )
  }

  #upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const connection = this.#connections.get(socket)
    // Refused when it connected: its 503 is on the way and the socket closes after it.
    if (!connection) return
    this.#stopTimer(socket)
    if (this.#closing) {
      refuse(socket, '503 Service Unavailable')
      return
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws, connection))
  }

  #accept(ws: WebSocket, connection: Connection): void {
    const { ip } = connection
    connection.ws = ws
    connection.lastMessageAt = Date.now()
    this.#watchIdle(connection)
    ws.on('pong', () => {
      connection.alive = true
    })
    // An oversize message: ws sends 1009 and emits this error; nothing more is read.
    ws.on('error', (err: Error & { code?: string }) => {
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.emit('rejected', 'TOO_LARGE', ip)
      ws.terminate()
    })
    const messages = new TokenBucket(this.limits.messageBurst, this.limits.messagesPerSec)
    const bytes = new TokenBucket(this.limits.maxMessageBytes * 4, this.limits.bytesPerSec)
    // Registered before the wire's own listener, so a flood is cut before it is decoded.
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
      connection.lastMessageAt = Date.now()
      const size = Array.isArray(data)
        ? data.reduce((n, part) => n + part.length, 0)
        : data.byteLength
      if (messages.take(1) && bytes.take(size)) return
      this.#drop(connection, 'FLOOD')
    })
    let plug: Plug
    try {
      plug = this.#spawnWire({ address: ip })
      if (!isPlug(plug)) throw new RelayError('RELAY_INVALID_INPUT', 'spawnWire returned no plug')
      wsWire(plug, ws, this.#wireOptions)
    } catch (err) {
      ws.close(1011, 'relay error')
      this.emit('warning', err instanceof Error ? err : new Error(String(err)))
      return
    }
    this.emit('connection', plug, ip)
  }

  /** Closes `connection` once it has sent nothing for `idleTimeoutMs`. */
  #watchIdle(connection: Connection): void {
    const check = () => {
      const silentMs = Date.now() - (connection.lastMessageAt ?? 0)
      if (silentMs >= this.limits.idleTimeoutMs) this.#drop(connection, 'IDLE_TIMEOUT')
      else connection.timer = setTimeout(check, this.limits.idleTimeoutMs - silentMs)
    }
    connection.timer = setTimeout(check, this.limits.idleTimeoutMs)
  }

  #stopTimer(socket: Socket): void {
    const connection = this.#connections.get(socket)
    if (connection) clearTimeout(connection.timer)
  }

  /**
   * Cuts a client off for `reason`: its slot is free at once, a WebSocket that still
   * listens gets a close frame saying why, and the socket is destroyed (no waiting for the
   * peer's closing handshake).
   */
  #drop(connection: Connection, reason: RelayRejection): void {
    this.#release(connection)
    this.emit('rejected', reason, connection.ip)
    const { ws } = connection
    const listening = reason !== 'UNRESPONSIVE' && reason !== 'HEADERS_TIMEOUT'
    if (ws && listening && ws.readyState === ws.OPEN) {
      ws.close(CLOSE_POLICY_VIOLATION, reason.toLowerCase().replaceAll('_', ' '))
    }
    if (ws) ws.terminate()
    else connection.socket.destroy()
  }

  #release(connection: Connection): void {
    clearTimeout(connection.timer)
    this.#slots.release(connection)
    this.#connections.delete(connection.socket)
  }

  #ping(): void {
    for (const connection of this.#connections.values()) {
      const { ws } = connection
      if (!ws) continue // still upgrading: the headers timeout watches it
      if (!connection.alive) {
        this.#drop(connection, 'UNRESPONSIVE')
        continue
      }
      connection.alive = false
      ws.ping()
    }
  }
}
