/**
 * A relay's slots cannot be held against honest clients (issue 12, finding 4): idle
 * WebSockets give way to newcomers (idle longest first, in total and per address) and are
 * closed after `idleTimeoutMs`; connections that never finish their upgrade headers hold a
 * slot for `headersTimeoutMs` and no longer; a client that breaks a limit is destroyed at
 * once, not left half-closed. 127.0.0.1 only; more source addresses are 127.0.0.2 and up.
 */
import type { Socket } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { WebSocket } from 'ws'
import { until } from '../../modem/test/testnet.ts'
import {
  CLOSE_POLICY_VIOLATION,
  DEFAULT_RELAY_LIMITS,
  RelayKernel,
  type RelayLimits,
  type RelayRejection,
  WebSocketRelay,
} from '../src/index.ts'
import {
  closeCode,
  DESTROYED,
  loopback,
  type NoteKernel,
  open,
  sleep,
  wsClient,
} from './helpers.ts'
import { msUntilClosed, rawWebSocket, sendBinary, slowloris } from './raw-socket.ts'

/** A relay kernel behind a WebSocketRelay on 127.0.0.1 (wired as startRelay does), and what it rejected. */
async function relayWith(limits: Partial<RelayLimits>) {
  const kernel = new RelayKernel()
  await kernel.boot()
  const server = await WebSocketRelay.listen(({ address }) => kernel.spawnWire({ address }), {
    host: '127.0.0.1',
    limits,
  })
  const rejections: RelayRejection[] = []
  server.on('rejected', (reason) => rejections.push(reason))
  return { kernel, server, rejections }
}

type Harness = Awaited<ReturnType<typeof relayWith>>

describe('slots held by idle sockets', () => {
  const IDLE_AFTER_MS = 300
  let relay: Harness
  const sockets: WebSocket[] = []
  const kernels: NoteKernel[] = []

  /** An honest client: connects (or rejects with the HTTP status) and syncs a note. */
  async function honest(text: string, localAddress?: string): Promise<void> {
    const client = await wsClient(relay.server.url, { localAddress })
    sockets.push(client.socket)
    kernels.push(client.kernel)
    const held = relay.kernel.blocks.state
    await client.kernel.note(text)
    await until(() => relay.kernel.blocks.state === held + 1)
  }

  beforeEach(async () => {
    relay = await relayWith({ idleAfterMs: IDLE_AFTER_MS })
  })
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.terminate()
    await relay.server.close()
    await Promise.all(kernels.splice(0).map((kernel) => kernel.close()))
    await relay.kernel.close()
  })

  it('256 idle WebSockets from 16 addresses (every slot): an honest client still gets in and syncs', async () => {
    const { maxConnections, maxConnectionsPerIp } = DEFAULT_RELAY_LIMITS
    const addresses = maxConnections / maxConnectionsPerIp
    expect(addresses).toBe(16)
    for (let a = 0; a < addresses; a++) {
      const batch = Array.from({ length: maxConnectionsPerIp }, () =>
        open(relay.server.url, { localAddress: loopback(a) }),
      )
      sockets.push(...(await Promise.all(batch)))
    }
    expect(relay.server.connectionCount).toBe(maxConnections)
    const closed = sockets.map((socket) => closeCode(socket))
    await sleep(IDLE_AFTER_MS + 50)

    await honest('through a relay full of idle sockets')
    expect(rejections()).toEqual(['IDLE_EVICTED'])
    expect(relay.server.slotCount).toBe(maxConnections)
    // Exactly one idle socket gave way, and it was told why (or destroyed before reading it).
    const settled = await Promise.race([Promise.any(closed), sleep(2000).then(() => undefined)])
    expect([CLOSE_POLICY_VIOLATION, DESTROYED]).toContain(settled)
    expect(sockets.filter((socket) => socket.readyState === socket.OPEN)).toHaveLength(
      maxConnections,
    )
  })

  it('16 idle WebSockets from one address: a client behind it gets in, oldest idle first', async () => {
    const behindNat = loopback(0)
    const idle: WebSocket[] = []
    for (let i = 0; i < DEFAULT_RELAY_LIMITS.maxConnectionsPerIp; i++) {
      idle.push(await open(relay.server.url, { localAddress: behindNat }))
    }
    sockets.push(...idle)
    const [first, second] = idle.map((socket) => closeCode(socket))
    await sleep(IDLE_AFTER_MS + 50)

    await honest('from behind the NAT', behindNat)
    expect([CLOSE_POLICY_VIOLATION, DESTROYED]).toContain(await first)
    await honest('a second one', behindNat)
    expect([CLOSE_POLICY_VIOLATION, DESTROYED]).toContain(await second)
    expect(rejections()).toEqual(['IDLE_EVICTED', 'IDLE_EVICTED'])
    expect(idle.slice(2).every((socket) => socket.readyState === socket.OPEN)).toBe(true)
    expect(relay.server.slotCount).toBe(DEFAULT_RELAY_LIMITS.maxConnectionsPerIp)
  })

  it('connections that are not idle yet are not evicted: HTTP 503', async () => {
    await relay.server.close()
    await relay.kernel.close()
    relay = await relayWith({ maxConnectionsPerIp: 4, idleAfterMs: 60_000 })
    for (let i = 0; i < 4; i++) sockets.push(await open(relay.server.url))
    await expect(open(relay.server.url)).rejects.toMatchObject({ status: 503 })
    expect(rejections()).toEqual(['MAX_CONNECTIONS_PER_IP'])
    expect(sockets.every((socket) => socket.readyState === socket.OPEN)).toBe(true)
  })

  const rejections = () => relay.rejections
})

describe('idle timeout', () => {
  it('closes a WebSocket that sends nothing for idleTimeoutMs (it answers pings) and frees its slot', async () => {
    const relay = await relayWith({ idleAfterMs: 200, idleTimeoutMs: 400, pingIntervalMs: 100 })
    const writer = await wsClient(relay.server.url)
    const silent = await open(relay.server.url)
    const code = closeCode(silent)
    const start = Date.now()
    // The writer keeps writing (traffic): it stays.
    while (Date.now() - start < 900) {
      await writer.kernel.note(`note ${Date.now()}`)
      await sleep(100)
    }
    expect([CLOSE_POLICY_VIOLATION, DESTROYED]).toContain(await code)
    expect(relay.rejections).toEqual(['IDLE_TIMEOUT'])
    expect(writer.socket.readyState).toBe(writer.socket.OPEN)
    expect(relay.server.slotCount).toBe(1)
    writer.socket.close()
    await relay.server.close()
    await writer.kernel.close()
    await relay.kernel.close()
  })
})

describe('slowloris (upgrade headers never finished)', () => {
  it('holds a slot for headersTimeoutMs, then is destroyed; then an honest client gets in', async () => {
    expect(DEFAULT_RELAY_LIMITS.headersTimeoutMs).toBe(10_000)
    const HEADERS_TIMEOUT_MS = 500
    const relay = await relayWith({
      maxConnections: 8,
      headersTimeoutMs: HEADERS_TIMEOUT_MS,
    })
    const slow: Socket[] = []
    for (let i = 0; i < 8; i++) slow.push(await slowloris(relay.server.port, loopback(i)))
    await until(() => relay.server.slotCount === 8)
    // They count: a WebSocket now finds no slot (an upgrading socket is never evicted).
    await expect(open(relay.server.url)).rejects.toMatchObject({ status: 503 })
    const lifetimes = await Promise.all(slow.map((socket) => msUntilClosed(socket)))
    // Node's own headersTimeout is checked every 30 s (they lived ~26 s); the relay's is exact.
    expect(Math.max(...lifetimes)).toBeLessThan(HEADERS_TIMEOUT_MS + 1000)
    expect(relay.rejections.filter((r) => r === 'HEADERS_TIMEOUT')).toHaveLength(8)
    expect(relay.server.slotCount).toBe(0)
    const client = await wsClient(relay.server.url)
    await client.kernel.note('after the slowloris')
    await until(() => relay.kernel.blocks.state === 1)
    client.socket.close()
    await relay.server.close()
    await client.kernel.close()
    await relay.kernel.close()
  })
})

describe('a client that breaks a limit is destroyed, not half-closed', () => {
  // It never answers the close frame: a half-close would keep it ~30 s (ws's closing timeout).
  const PROMPTLY_MS = 2000

  it.each([
    ['TOO_LARGE', { maxMessageBytes: 1024 }, (s: Socket) => sendBinary(s, new Uint8Array(1025))],
    [
      'FLOOD',
      { messageBurst: 4, messagesPerSec: 1 },
      (s: Socket) => {
        for (let i = 0; i < 8; i++) sendBinary(s, Uint8Array.of(0))
      },
    ],
    ['IDLE_TIMEOUT', { idleAfterMs: 100, idleTimeoutMs: 200 }, () => undefined],
    ['UNRESPONSIVE', { pingIntervalMs: 100 }, () => undefined],
  ] as const)('%s', async (reason, limits, misbehave) => {
    const relay = await relayWith(limits)
    const socket = await rawWebSocket(relay.server.port)
    misbehave(socket)
    expect(await msUntilClosed(socket)).toBeLessThan(PROMPTLY_MS)
    expect(relay.rejections).toContain(reason)
    await until(() => relay.server.slotCount === 0)
    await relay.server.close()
    await relay.kernel.close()
  })
})

describe('close()', () => {
  it('does not wait for a client that never answers the close frame (ws would wait 30 s)', async () => {
    const kernel = new RelayKernel()
    await kernel.boot()
    const server = await WebSocketRelay.listen(({ address }) => kernel.spawnWire({ address }), {
      host: '127.0.0.1',
      wire: { halfOpenTimeoutMs: 200 },
    })
    const socket = await rawWebSocket(server.port)
    const start = Date.now()
    await server.close()
    expect(Date.now() - start).toBeLessThan(2000)
    expect(socket.closed || (await msUntilClosed(socket)) < 2000).toBe(true)
    await kernel.close()
  })
})
