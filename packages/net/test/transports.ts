/** Real-transport fixtures: TCP on 127.0.0.1 with a chunk-chaos duplex, and ws. */
import { once } from 'node:events'
import net from 'node:net'
import { Duplex } from 'node:stream'
import { WebSocket, WebSocketServer } from 'ws'
import { type FrameWireOptions, picoWire, streamWire, wsWire } from '../src/index.ts'
import type { Pair } from './conversation.ts'

/** Small seeded PRNG (mulberry32) so chaos runs are reproducible. */
export function prng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Collects bytes and re-emits them in random pieces: sometimes held back a tick so later
 * writes coalesce with them, sometimes split down to single bytes. Order is kept.
 */
class Rechunker {
  private held: Uint8Array[] = []
  private scheduled = false

  constructor(
    private readonly emit: (bytes: Uint8Array) => void,
    private readonly random: () => number,
  ) {}

  add(bytes: Uint8Array): void {
    this.held.push(new Uint8Array(bytes))
    this.schedule()
  }

  private schedule(): void {
    if (this.scheduled) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      if (this.random() < 0.3) this.schedule()
      else this.flush()
    })
  }

  flush(): void {
    if (this.held.length === 0) return
    const total = this.held.reduce((n, b) => n + b.length, 0)
    const all = new Uint8Array(total)
    let at = 0
    for (const b of this.held) {
      all.set(b, at)
      at += b.length
    }
    this.held = []
    for (let i = 0; i < total; ) {
      const size = 1 + Math.floor(this.random() ** 3 * (total - i))
      this.emit(all.subarray(i, i + size))
      i += size
    }
  }
}

/** A duplex over `socket` that splits and coalesces chunks at random both ways. */
export function chaos(socket: net.Socket, seed: number): Duplex {
  const random = prng(seed)
  const outbound = new Rechunker((bytes) => socket.write(bytes), random)
  let duplex: Duplex
  const inbound = new Rechunker((bytes) => duplex.push(bytes), random)
  duplex = new Duplex({
    write(chunk: Uint8Array, _encoding, callback) {
      outbound.add(chunk)
      callback()
    },
    final(callback) {
      outbound.flush()
      socket.end()
      callback()
    },
    read() {},
    destroy(err, callback) {
      socket.destroy()
      callback(err)
    },
  })
  socket.on('data', (chunk: Uint8Array) => inbound.add(chunk))
  socket.on('end', () => {
    inbound.flush()
    duplex.push(null)
  })
  socket.on('close', () => duplex.destroy())
  socket.on('error', () => {})
  return duplex
}

/** A listening TCP server on 127.0.0.1 and a client socket connected to it. */
export async function tcpConnection(
  onServerSocket: (socket: net.Socket) => void,
): Promise<{ client: net.Socket; server: net.Server; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    onServerSocket(socket)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as net.AddressInfo
  const client = net.connect(port, '127.0.0.1')
  client.on('error', () => {})
  await Promise.all([once(client, 'connect'), once(server, 'connection')])
  return {
    client,
    server,
    async close() {
      client.destroy()
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

/** App plugs a and b talking over TCP, each side reading through its own chaos duplex. */
export async function tcpPair(options: FrameWireOptions = {}, seed = 1): Promise<Pair> {
  const [a, aTransport] = picoWire(options)
  const [b, bTransport] = picoWire(options)
  const connection = await tcpConnection((socket) =>
    streamWire(bTransport, chaos(socket, seed + 1000), options),
  )
  streamWire(aTransport, chaos(connection.client, seed), options)
  return {
    a,
    b,
    async teardown() {
      a.close()
      b.close()
      await connection.close()
    },
  }
}

/** App plugs a and b talking over a real WebSocket (ws server on 127.0.0.1). */
export async function wsPair(options: FrameWireOptions = {}): Promise<Pair> {
  const [a, aTransport] = picoWire(options)
  const [b, bTransport] = picoWire(options)
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await once(server, 'listening')
  const { port } = server.address() as net.AddressInfo
  const accepted = once(server, 'connection')
  const client = new WebSocket(`ws://127.0.0.1:${port}`)
  wsWire(aTransport, client, options)
  const [socket] = (await accepted) as [WebSocket]
  wsWire(bTransport, socket, options)
  if (client.readyState !== WebSocket.OPEN) await once(client, 'open')
  return {
    a,
    b,
    async teardown() {
      a.close()
      b.close()
      client.terminate()
      for (const ws of server.clients) ws.terminate()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
