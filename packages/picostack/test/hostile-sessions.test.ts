import type net from 'node:net'
import { encodeFrame } from '@picostack/net'
import { afterEach, expect, test } from 'vitest'
import {
  DEFAULT_SYNC_LIMITS,
  encodeMessage,
  type KernelError,
  type Peer,
  PROTOCOL_VERSION,
} from '../src/index.ts'
import { FakeClock } from './fake-clock.ts'
import { CounterKernel, chainsOf, until } from './helpers.ts'
import { HostilePeer } from './hostile-peer.ts'
import { type Cleanups, listen, rawClient } from './tcp-peer.ts'

/** A kernel that records the sessions that ended before they became peers. */
class Recording extends CounterKernel {
  readonly refused: { peer: Peer; code: string | undefined }[] = []
  override onrefuse(peer: Peer, reason: Error | undefined) {
    this.refused.push({ peer, code: (reason as KernelError | undefined)?.code })
  }
}

const kernels: CounterKernel[] = []
const cleanups: Cleanups = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup()
  await Promise.all(kernels.splice(0).map((k) => k.close()))
})

async function boot<K extends CounterKernel>(kernel: K): Promise<K> {
  kernels.push(kernel)
  await kernel.boot()
  return kernel
}

function codeOf(reason: Error | undefined): string | undefined {
  return (reason as KernelError | undefined)?.code
}

test('a kernel wired to itself: both ends close with KERNEL_SELF_WIRE and onrefuse says so', async () => {
  const kernel = await boot(new Recording())
  const plug = kernel.spawnWire()
  plug(kernel.spawnWire())
  expect(codeOf(await plug.closed)).toBe('KERNEL_SELF_WIRE')
  await until(() => kernel.refused.length === 2)
  expect(kernel.refused.map((r) => r.code)).toEqual(['KERNEL_SELF_WIRE', 'KERNEL_SELF_WIRE'])
  expect(kernel.refused[0]!.peer.id).toBe(Buffer.from(kernel.nodeId).toString('hex'))
  expect(kernel.peers).toHaveLength(0)
})

test('past maxSessions a wire is refused with KERNEL_TOO_MANY_SESSIONS; the peer learns why', async () => {
  const clock = new FakeClock()
  const alice = await boot(new Recording(undefined, { clock, limits: { maxSessions: 3 } }))
  const silent = Array.from({ length: 3 }, () => alice.spawnWire())
  for (const plug of silent) plug.open(() => {}) // opened, never says hello
  const bob = await boot(new Recording(undefined, { clock }))
  const wire = bob.spawnWire()
  wire(alice.spawnWire())
  expect(codeOf(await wire.closed)).toBe('KERNEL_TOO_MANY_SESSIONS')
  await until(() => bob.refused.length === 1 && alice.refused.length === 1)
  expect(alice.refused[0]!.code).toBe('KERNEL_TOO_MANY_SESSIONS')
  expect(bob.refused[0]!.code).toBe('KERNEL_TOO_MANY_SESSIONS')
  expect(bob.refused[0]!.peer.stats.errors.map((e) => e.code)).toEqual(['KERNEL_TOO_MANY_SESSIONS'])
  expect(silent.every((plug) => !plug.isClosed)).toBe(true)

  // The silent ones time out (destroyed, KERNEL_HANDSHAKE_TIMEOUT) and free their slots.
  await clock.advance(DEFAULT_SYNC_LIMITS.handshakeTimeoutMs)
  for (const plug of silent) expect(codeOf(await plug.closed)).toBe('KERNEL_HANDSHAKE_TIMEOUT')
  bob.spawnWire()(alice.spawnWire())
  await until(() => alice.peers.length === 1 && bob.peers.length === 1)
})

test('maxSessionsPerAddress counts an IPv6 /64 as one address: a host cannot dodge it by changing addresses', async () => {
  const alice = await boot(new Recording(undefined, { limits: { maxSessionsPerAddress: 2 } }))
  const plugs = ['2001:db8:0:1::a', '2001:db8:0:1::b', '2001:db8:0:1:1:2:3:4'].map((address) =>
    alice.spawnWire({ address }),
  )
  const other = alice.spawnWire({ address: '2001:db8:0:2::a' }) // another /64
  for (const plug of [...plugs, other]) plug.open(() => {})
  expect(codeOf(await plugs[2]!.closed)).toBe('KERNEL_TOO_MANY_SESSIONS')
  expect(plugs[0]!.isClosed || plugs[1]!.isClosed || other.isClosed).toBe(false)
  for (const plug of [...plugs, other]) plug.destroy()
})

test('1,000 wires that never say hello: 64 sessions held, the rest refused, all gone after the handshake timeout', async () => {
  const clock = new FakeClock()
  const alice = await boot(new Recording(undefined, { clock }))
  const plugs = Array.from({ length: 1000 }, () => alice.spawnWire())
  for (const plug of plugs) plug.open(() => {})
  await until(() => alice.refused.length === 1000 - DEFAULT_SYNC_LIMITS.maxSessions)
  expect(new Set(alice.refused.map((r) => r.code))).toEqual(new Set(['KERNEL_TOO_MANY_SESSIONS']))
  expect(plugs.filter((plug) => !plug.isClosed)).toHaveLength(DEFAULT_SYNC_LIMITS.maxSessions)
  await clock.advance(DEFAULT_SYNC_LIMITS.handshakeTimeoutMs - 1)
  expect(plugs.filter((plug) => !plug.isClosed)).toHaveLength(DEFAULT_SYNC_LIMITS.maxSessions)
  await clock.advance(1)
  expect(plugs.filter((plug) => !plug.isClosed)).toHaveLength(0)
  expect(alice.refused.filter((r) => r.code === 'KERNEL_HANDSHAKE_TIMEOUT')).toHaveLength(
    DEFAULT_SYNC_LIMITS.maxSessions,
  )
})

test('over TCP: one address holds at most maxSessionsPerAddress; silent sockets and half-sent frames are destroyed at the handshake timeout', async () => {
  const clock = new FakeClock()
  const alice = await boot(new Recording(undefined, { clock }))
  const { port, sockets } = await listen(alice, cleanups)
  const perAddress = DEFAULT_SYNC_LIMITS.maxSessionsPerAddress
  const clients: net.Socket[] = []
  for (let i = 0; i < perAddress + 4; i++) {
    const client = await rawClient(port, cleanups)
    // Half of them start a 1 MiB frame (its 3-byte length) and send nothing more.
    if (i % 2 === 0) client.write(Uint8Array.of(0x85, 0x80, 0x40))
    clients.push(client)
  }
  await until(() => alice.refused.length === 4)
  expect(alice.refused.map((r) => r.code)).toEqual(Array(4).fill('KERNEL_TOO_MANY_SESSIONS'))
  await until(() => sockets.size === perAddress)
  await clock.advance(DEFAULT_SYNC_LIMITS.handshakeTimeoutMs - 1)
  expect(sockets.size).toBe(perAddress)
  await clock.advance(1)
  await until(() => sockets.size === 0, 1000)
  expect(alice.refused.filter((r) => r.code === 'KERNEL_HANDSHAKE_TIMEOUT')).toHaveLength(
    perAddress,
  )
})

test('an idle honest peer stays (keepalive pings); a silent one is closed with KERNEL_IDLE_TIMEOUT', async () => {
  const clock = new FakeClock()
  const alice = await boot(new Recording(undefined, { clock }))
  const bob = await boot(new Recording(undefined, { clock }))
  bob.spawnWire()(alice.spawnWire())
  await until(() => alice.peers.length === 1 && bob.peers.length === 1)
  const silent = new HostilePeer(alice.spawnWire())
  await silent.hello()
  await until(() => alice.peers.length === 2)
  const { idleTimeoutMs, keepaliveMs } = DEFAULT_SYNC_LIMITS
  for (let t = 0; t < idleTimeoutMs; t += 1000) await clock.advance(1000)
  expect(codeOf(await silent.plug.closed)).toBe('KERNEL_IDLE_TIMEOUT')
  expect(silent.received.filter((m) => m.type === 'ping').length).toBeGreaterThanOrEqual(2)
  // Ten more idle minutes: bob and alice only ping each other, and stay.
  for (let t = 0; t < 10 * idleTimeoutMs; t += keepaliveMs / 2) await clock.advance(keepaliveMs / 2)
  expect(alice.peers).toHaveLength(1)
  expect(bob.peers).toHaveLength(1)
  await alice.count(1)
  await until(async () => (await chainsOf(bob)).length === 1)
})

test('after KERNEL_MISBEHAVING the TCP socket is destroyed, even if the peer never closes its side', async () => {
  const alice = await boot(new CounterKernel())
  const { port, sockets } = await listen(alice, cleanups)
  const client = await rawClient(port, cleanups, true)
  const frame = (payload: Uint8Array) =>
    encodeFrame({ dstPort: 0, srcPort: 0, flags: 0, payload }, 1024 * 1024)
  const hello = encodeMessage({
    type: 'hello',
    version: PROTOCOL_VERSION,
    nodeId: crypto.getRandomValues(new Uint8Array(16)),
    nonce: crypto.getRandomValues(new Uint8Array(8)),
  })
  client.write(frame(hello))
  await until(() => alice.peers.length === 1)
  const ack = encodeMessage({ type: 'ack', accepted: 1 }) // a reply nobody asked for: a strike
  for (let i = 0; i < DEFAULT_SYNC_LIMITS.maxStrikes; i++) client.write(frame(ack))
  // The server's socket is gone well before the byte wire's 5 s half-open timeout would
  // end it: destroyed, not merely ended (the client never closes its side).
  await until(() => sockets.size === 0, 1000)
  expect(alice.peers).toHaveLength(0)
})

test('a flood of patches past twice the patch window is refused with KERNEL_FLOOD, not queued', async () => {
  const alice = await boot(new CounterKernel())
  const evil = new HostilePeer(alice.spawnWire())
  await evil.hello()
  const junk = encodeMessage({
    type: 'patch',
    segments: [{ chainId: new Uint8Array(64), height: 1, feed: new Uint8Array(200_000) }],
  })
  const replies = await Promise.all(
    Array.from({ length: 4 * DEFAULT_SYNC_LIMITS.patchWindow }, () =>
      evil.request(junk).then(
        (reply) => (reply.type === 'error' ? reply.code : reply.type),
        (err: KernelError) => err.code, // the wire closed: MISBEHAVING after 10 strikes
      ),
    ),
  )
  const codes = replies
  expect(codes.filter((code) => code === 'KERNEL_FLOOD').length).toBeGreaterThan(0)
  expect(codes.filter((code) => code === 'FEED_DECODE').length).toBeLessThanOrEqual(
    2 * DEFAULT_SYNC_LIMITS.patchWindow,
  )
})
