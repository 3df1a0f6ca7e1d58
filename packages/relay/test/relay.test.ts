/**
 * The relay: WebSocket clients and hyperswarm peers on one kernel, and what it does with
 * clients that misbehave (garbage, text, oversize messages, floods of messages and of
 * connections, silent clients, non-WebSocket traffic). After every attack a well-behaved
 * client still syncs through it.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { connect as tcpConnect } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { encodeBlock, Feed, signPair, toHex } from '@picostack/kernel'
import type { Plug } from '@picostack/net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
// The modem's local HyperDHT testnet (127.0.0.1 only, guarded), shared rather than copied.
import { localNet, type Net, until } from '../../modem/test/testnet.ts'
import {
  CLOSE_POLICY_VIOLATION,
  DEFAULT_RELAY_LIMITS,
  RELAY_REJECT,
  type Relay,
  RelayKernel,
  type RelayRejection,
  startRelay,
  WebSocketRelay,
} from '../src/index.ts'
import {
  bootedNoteKernel,
  closeCode,
  DESTROYED,
  type NoteKernel,
  open,
  wsClient,
} from './helpers.ts'

const TOPIC = 'relay-test'

describe('relay peer: sessions per address', () => {
  it('holds one IP to maxConnectionsPerIp swarm sessions, counted apart from its WebSocket clients', async () => {
    const net = await localNet()
    const relay = await startRelay({
      topic: TOPIC,
      port: 0,
      host: '127.0.0.1',
      bootstrap: net.testnet.bootstrap,
      limits: { maxConnectionsPerIp: 2 },
    })
    const refused: (string | undefined)[] = []
    relay.kernel.onrefuse = (_peer, reason) => refused.push((reason as { code?: string }).code)
    const kernels: NoteKernel[] = []
    try {
      // Three swarm peers on 127.0.0.1, three keys: only two sessions with the relay.
      for (let i = 0; i < 3; i++) {
        const peer = await bootedNoteKernel()
        kernels.push(peer)
        await net.modem().join(TOPIC, ({ address }) => peer.spawnWire({ address }))
      }
      const swarmSessions = () =>
        relay.kernel.peers.filter((p) => p.address === 'swarm/127.0.0.1').length
      await until(() => refused.length === 1 && swarmSessions() === 2, 20_000)
      expect(refused).toEqual(['KERNEL_TOO_MANY_SESSIONS'])
      // The WebSocket side has its own two per IP.
      const a = await wsClient(relay.url)
      const b = await wsClient(relay.url)
      expect(relay.kernel.peers.map((p) => p.address).sort()).toEqual([
        '127.0.0.1',
        '127.0.0.1',
        'swarm/127.0.0.1',
        'swarm/127.0.0.1',
      ])
      await a.kernel.note('per address')
      await until(() => kernels.every((k) => k.notes.state.includes('per address')))
      for (const client of [a, b]) {
        client.socket.close()
        await client.kernel.close()
      }
    } finally {
      await relay.close()
      await net.teardown()
      for (const kernel of kernels) await kernel.close()
    }
  }, 40_000)
})

describe('relay peer (startRelay)', () => {
  let net: Net
  let relay: Relay
  let swarmPeer: NoteKernel
  const rejections: RelayRejection[] = []
  const limits = {
    maxConnections: 12,
    maxConnectionsPerIp: 8,
    maxMessageBytes: 64 * 1024,
    messageBurst: 200,
    messagesPerSec: 100,
    pingIntervalMs: 150,
  }

  /** A fresh client syncs a note both ways through the relay (the relay is fine). */
  async function relayStillWorks(text: string): Promise<void> {
    const { kernel, socket } = await wsClient(relay.url)
    await kernel.note(`${text} from ws`)
    await swarmPeer.note(`${text} from swarm`)
    await until(() => swarmPeer.notes.state.includes(`${text} from ws`))
    await until(() => kernel.notes.state.includes(`${text} from swarm`))
    socket.close()
    await kernel.close()
  }

  beforeAll(async () => {
    net = await localNet()
    relay = await startRelay({
      topic: TOPIC,
      port: 0,
      host: '127.0.0.1',
      bootstrap: net.testnet.bootstrap,
      limits,
    })
    expect(relay.modem.swarm.dht.bootstrapNodes.every((n) => n.host === '127.0.0.1')).toBe(true)
    relay.server.on('rejected', (reason) => rejections.push(reason))
    swarmPeer = await bootedNoteKernel()
    await net.modem().join(TOPIC, () => swarmPeer.spawnWire())
    await until(() => swarmPeer.peers.length === 1)
  })

  afterAll(async () => {
    await relay.close()
    await net.teardown()
    await swarmPeer.close()
  })

  it('carries blocks browser <-> relay <-> swarm, and browser <-> browser', async () => {
    expect(relay.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/$/)
    const a = await wsClient(relay.url)
    const b = await wsClient(relay.url)
    await a.kernel.note('from a')
    await swarmPeer.note('from swarm')
    await b.kernel.note('from b')
    const all = ['from a', 'from b', 'from swarm']
    for (const kernel of [a.kernel, b.kernel, swarmPeer]) {
      await until(() => kernel.notes.state.join() === all.join())
    }
    expect(relay.kernel.blocks.state).toBe(3)
    expect(relay.server.connectionCount).toBe(2)
    a.socket.close()
    b.socket.close()
    await Promise.all([a.kernel.close(), b.kernel.close()])
    await until(() => relay.server.connectionCount === 0)
  })

  it('destroys a client that sends garbage or text, and carries on', async () => {
    // A protocol violation: the wire destroys the socket at once, no close frame.
    const garbage = await open(relay.url)
    garbage.send(Uint8Array.of(0x07, 0xff, 0xff, 0xff, 0xff, 0xff, 0x80, 0x01, 0x02))
    expect(await closeCode(garbage)).toBe(DESTROYED)
    const text = await open(relay.url)
    text.send('hello relay')
    expect(await closeCode(text)).toBe(DESTROYED)
    await relayStillWorks('after garbage')
  })

  it('destroys a client whose message is over maxMessageBytes', async () => {
    // ws sends 1009 first; the socket is destroyed right after, so the frame may not be read.
    const big = await open(relay.url)
    big.send(new Uint8Array(limits.maxMessageBytes + 1))
    expect([1009, DESTROYED]).toContain(await closeCode(big))
    expect(rejections).toContain('TOO_LARGE')
    // A small message declaring a frame over the wire's maxFrameBytes: destroyed by the wire.
    const declared = await open(relay.url)
    declared.send(Uint8Array.of(0xff, 0xff, 0xff, 0x7f))
    expect(await closeCode(declared)).toBe(DESTROYED)
    await relayStillWorks('after oversize')
  })

  it('cuts off a client that floods messages', async () => {
    const flood = await open(relay.url)
    // A frame of 60 000 bytes, announced, then sent one byte per message: the decoder
    // only buffers it, so the rate limit is what stops this client.
    flood.send(Uint8Array.of(0xe0, 0xd4, 0x03))
    for (let i = 0; i < 1000; i++) flood.send(Uint8Array.of(0))
    // 1008 first, then destroyed: the frame may not be read.
    expect([CLOSE_POLICY_VIOLATION, DESTROYED]).toContain(await closeCode(flood))
    expect(rejections).toContain('FLOOD')
    await relayStillWorks('after message flood')
  })

  it('refuses connections over the per-IP and total limits with HTTP 503', async () => {
    await until(() => relay.server.connectionCount === 0)
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => open(relay.url)))
    const opened = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
    const statuses = results.flatMap((r) => (r.status === 'rejected' ? [r.reason.status] : []))
    expect(opened).toHaveLength(limits.maxConnectionsPerIp)
    expect(statuses).toEqual(Array(20 - limits.maxConnectionsPerIp).fill(503))
    expect(rejections).toContain('MAX_CONNECTIONS_PER_IP')

    // Other loopback addresses count as other IPs, up to maxConnections in total.
    const others = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => open(relay.url, { localAddress: `127.0.0.${2 + i}` })),
    )
    const othersOpened = others.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
    expect(othersOpened).toHaveLength(limits.maxConnections - limits.maxConnectionsPerIp)
    expect(rejections).toContain('MAX_CONNECTIONS')
    expect(relay.server.connectionCount).toBe(limits.maxConnections)

    for (const socket of [...opened, ...othersOpened]) socket.close()
    await until(() => relay.server.connectionCount === 0)
    await relayStillWorks('after connection flood')
  })

  it('drops a client that stops answering pings', async () => {
    const silent = await open(relay.url, { autoPong: false })
    expect(await closeCode(silent)).toBe(DESTROYED)
    expect(rejections).toContain('UNRESPONSIVE')
  })

  it('answers plain HTTP with 426 and survives bytes that are not HTTP at all', async () => {
    const response = await fetch(relay.url.replace('ws:', 'http:'))
    expect(response.status).toBe(426)
    const raw = tcpConnect(relay.server.port, '127.0.0.1')
    raw.on('error', () => undefined)
    await once(raw, 'connect')
    raw.write(Buffer.from([0, 1, 2, 3, 0xff, 0xfe, 13, 10, 13, 10]))
    await once(raw, 'close')
    await relayStillWorks('after raw TCP garbage')
  })
})

/** The error code (and reason) a promise rejects with. */
async function refusal(promise: Promise<unknown>): Promise<{ code?: string; reason?: string }> {
  try {
    await promise
  } catch (err) {
    const { code, reason } = err as { code?: string; reason?: string }
    return { code, reason }
  }
  return {}
}

describe('RelayKernel', () => {
  it('holds any app block, refuses blocks from the future, forgets after retentionMs', async () => {
    const relay = new RelayKernel(undefined, { retentionMs: 400 })
    await relay.boot()
    const { sk } = signPair()
    const feed = new Feed()
    feed.append(encodeBlock('tasks', { op: 'create', title: 'x', ttlMs: 1 }), sk)
    feed.append(encodeBlock('anything', [1, 2, 3]), sk)
    expect((await relay.dispatch(feed, true))?.length).toBe(2)
    expect(relay.blocks.state).toBe(2)
    const future = feed.clone()
    future.append(encodeBlock('note', { text: 'later' }, Date.now() + 120_000), sk)
    expect(await refusal(relay.dispatch(future, true))).toEqual({
      code: 'STORE_REJECTED',
      reason: RELAY_REJECT.fromFuture,
    })
    await until(() => relay.blocks.state === 0, 5000)
    // The blocks leave the disk too (the state forgets first).
    for (let tries = 0; await relay.repo.hasBlock(feed.last!.sig); tries++) {
      expect(tries).toBeLessThan(250)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect(await relay.repo.hasBlock(feed.first!.sig)).toBe(false)
    await relay.close()
  })

  it('accepts appends by another author that extend the head; refuses forks', async () => {
    const relay = new RelayKernel()
    await relay.boot()
    const alice = signPair()
    const bob = signPair()
    const chain = new Feed()
    chain.append(encodeBlock('note', { text: 'a0' }), alice.sk)
    await relay.dispatch(chain, true)
    const appended = chain.clone()
    appended.append(encodeBlock('note', { text: 'b1' }), bob.sk)
    expect((await relay.dispatch(appended, true))?.length).toBe(1)
    const fork = chain.clone()
    fork.append(encodeBlock('note', { text: 'a1' }), alice.sk)
    expect((await refusal(relay.dispatch(fork, true))).code).toMatch(/^(STORE|REPO)_/)
    expect(relay.blocks.state).toBe(2)
    await relay.close()
  })

  it('carries a block only to the clients that did not get it directly', async () => {
    const relay = new RelayKernel()
    const [alice, bob, carol] = await Promise.all([
      bootedNoteKernel(),
      bootedNoteKernel(),
      bootedNoteKernel(),
    ])
    await relay.boot()
    for (const client of [alice, bob, carol]) client.spawnWire()(relay.spawnWire())
    alice.spawnWire()(bob.spawnWire()) // alice and bob link directly; carol cannot
    await until(() => relay.peers.length === 3 && alice.peers.length === 2, 5000)
    await alice.note('hello')
    await until(() => bob.notes.state.length === 1 && carol.notes.state.length === 1, 5000)
    await new Promise((resolve) => setTimeout(resolve, 100)) // any late push would show
    const sentTo = (kernel: NoteKernel) =>
      relay.peers.find((peer) => peer.id === toHex(kernel.nodeId))!.stats.blocksSent
    expect({ bob: sentTo(bob), carol: sentTo(carol) }).toEqual({ bob: 0, carol: 1 })
    await Promise.all([alice, bob, carol, relay].map((kernel) => kernel.close()))
  })

  it('rejects a retentionMs that is not positive', () => {
    expect(() => new RelayKernel(undefined, { retentionMs: 0 })).toThrow(
      expect.objectContaining({ code: 'RELAY_INVALID_INPUT' }),
    )
  })

  it('keeps blocks on disk (--data) for clients that come after a restart', async () => {
    const net = await localNet()
    const data = await mkdtemp(join(tmpdir(), 'picostack-relay-'))
    const options = {
      topic: TOPIC,
      port: 0,
      host: '127.0.0.1',
      bootstrap: net.testnet.bootstrap,
      data,
    }
    try {
      let relay = await startRelay(options)
      const writer = await wsClient(relay.url)
      await writer.kernel.note('kept by the relay')
      await until(() => relay.kernel.blocks.state === 1)
      writer.socket.close()
      await writer.kernel.close()
      await relay.close()

      relay = await startRelay(options)
      const reader = await wsClient(relay.url)
      await until(() => reader.kernel.notes.state.includes('kept by the relay'))
      reader.socket.close()
      await reader.kernel.close()
      await relay.close()
    } finally {
      await net.teardown()
      await rm(data, { recursive: true, force: true })
    }
  })
})

describe('WebSocketRelay', () => {
  it('rejects limits that are not positive integers and a missing spawnWire', async () => {
    const spawnWire = () => ({}) as Plug
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      await expect(
        WebSocketRelay.listen(spawnWire, { limits: { maxConnections: bad } }),
      ).rejects.toMatchObject({ code: 'RELAY_INVALID_INPUT' })
    }
    for (const limits of [{ idleAfterMs: 2000, idleTimeoutMs: 1000 }, { idleTimeoutMs: 2 ** 31 }]) {
      await expect(WebSocketRelay.listen(spawnWire, { limits })).rejects.toMatchObject({
        code: 'RELAY_INVALID_INPUT',
      })
    }
    await expect(
      WebSocketRelay.listen(undefined as unknown as () => Plug, { port: 0 }),
    ).rejects.toMatchObject({ code: 'RELAY_INVALID_INPUT' })
    expect(DEFAULT_RELAY_LIMITS.maxMessageBytes).toBe(1024 * 1024 + 9)
  })
})

describe('picostack-relay (the bin)', () => {
  const bin = join(dirname(fileURLToPath(import.meta.url)), '../src/bin/relay.ts')
  const run = (args: string[]) =>
    spawn(process.execPath, ['--import', 'tsx', '--conditions=@picostack/source', bin, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })

  it('serves a topic on a port; SIGTERM stops it cleanly', async () => {
    const net = await localNet()
    const { host, port } = net.testnet.bootstrap[0]!
    const child = run([
      '--topic',
      TOPIC,
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--bootstrap',
      `${host}:${port}`,
    ])
    const exited = once(child, 'exit')
    try {
      let out = ''
      child.stdout.on('data', (chunk) => (out += chunk))
      await until(() => /ws:\/\/\S+/.test(out), 20_000)
      const url = /ws:\/\/\S+/.exec(out)![0]
      expect(out).toContain(`topic "${TOPIC}"`)

      const swarmPeer = await bootedNoteKernel()
      await net.modem().join(TOPIC, () => swarmPeer.spawnWire())
      const { kernel, socket } = await wsClient(url)
      await kernel.note('through the bin')
      await until(() => swarmPeer.notes.state.includes('through the bin'))
      socket.close()
      await kernel.close()
      await swarmPeer.close()
    } finally {
      child.kill('SIGTERM')
      const [code] = await exited
      expect(code).toBe(0)
      await net.teardown()
    }
  })

  it('exits 2 with the usage when --topic is missing', async () => {
    const child = run(['--port', '0'])
    let err = ''
    child.stderr.on('data', (chunk) => (err += chunk))
    const [code] = await once(child, 'exit')
    expect(code).toBe(2)
    expect(err).toContain('--topic is required')
    expect(err).toContain('usage: picostack-relay')
  })
})
