import { afterEach, expect, test } from 'vitest'
import { DEFAULT_SYNC_LIMITS, encodeMessage } from '../src/index.ts'
import { FakeClock } from './fake-clock.ts'
import { announcingPages, HEAP_BOUND_BYTES, usedBytes } from './heap.ts'
import { CounterKernel, until } from './helpers.ts'
import { HostilePeer } from './hostile-peer.ts'
import { type Cleanups, listen, rawClient } from './tcp-peer.ts'

let kernel: CounterKernel | undefined
const cleanups: Cleanups = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup()
  await kernel?.close()
  kernel = undefined
})

test('8 peers each announcing 98,304 chains (12.6 MiB of have pages) grow the heap by < 64 MiB', async () => {
  // One set of pages for every peer, made before the baseline: the attacker's memory.
  const pages = announcingPages()
  const pageBytes = pages.reduce((sum, page) => sum + page.length, 0)
  expect(pageBytes).toBeGreaterThan(10.5 * 1024 * 1024)
  kernel = new CounterKernel()
  await kernel.boot()
  await kernel.count(1)
  const baseline = usedBytes()
  const peers: HostilePeer[] = []
  for (let i = 0; i < 8; i++) {
    const peer = new HostilePeer(kernel.spawnWire())
    await peer.hello()
    for (const page of pages) await peer.send(page)
    peers.push(peer)
  }
  const growth = usedBytes() - baseline
  console.log(`announcing: ${(growth / 2 ** 20).toFixed(1)} MiB over baseline`)
  // Every session is still open, and none was refused: the announcements were within limits.
  expect(kernel.peers).toHaveLength(8)
  expect(peers.flatMap((peer) => peer.errors)).toEqual([])
  expect(growth).toBeLessThan(HEAP_BOUND_BYTES)
}, 120_000)

test('8 peers each asking for 40,000 chains with want grow the heap by < 64 MiB', async () => {
  const clock = new FakeClock()
  kernel = new CounterKernel(undefined, { clock })
  await kernel.boot()
  await kernel.count(1)
  const wants = Array.from({ length: 40_000 }, () =>
    encodeMessage({
      type: 'want',
      chainId: crypto.getRandomValues(new Uint8Array(64)),
      height: 1,
      headId: crypto.getRandomValues(new Uint8Array(64)),
    }),
  )
  const baseline = usedBytes()
  const peers = Array.from({ length: 8 }, () => new HostilePeer(kernel!.spawnWire()))
  for (const peer of peers) await peer.hello()
  for (let start = 0; start < wants.length; start += 1000) {
    for (const peer of peers) {
      for (const want of wants.slice(start, start + 1000)) await peer.send(want)
    }
    await clock.advance(1000) // within the rate limit: 1,000 messages per peer per second
  }
  const growth = usedBytes() - baseline
  console.log(`asking: ${(growth / 2 ** 20).toFixed(1)} MiB over baseline`)
  expect(kernel.peers).toHaveLength(8)
  expect(peers.flatMap((peer) => peer.errors)).toEqual([])
  expect(growth).toBeLessThan(HEAP_BOUND_BYTES)
}, 120_000)

test('300 TCP connections that never say hello, half of them with a 1 MiB frame begun, grow the heap by < 64 MiB', async () => {
  const clock = new FakeClock()
  kernel = new CounterKernel(undefined, { clock })
  await kernel.boot()
  const { port, sockets } = await listen(kernel, cleanups)
  const baseline = usedBytes()
  for (let i = 0; i < 300; i++) {
    const client = await rawClient(port, cleanups)
    if (i % 2 === 0) client.write(Uint8Array.of(0x85, 0x80, 0x40)) // a 1 MiB frame's length
  }
  // One address: maxSessionsPerAddress sessions are held, the others refused and closed.
  await until(() => sockets.size === DEFAULT_SYNC_LIMITS.maxSessionsPerAddress)
  const growth = usedBytes() - baseline
  console.log(`silent TCP: ${(growth / 2 ** 20).toFixed(1)} MiB over baseline`)
  expect(growth).toBeLessThan(HEAP_BOUND_BYTES)
  await clock.advance(DEFAULT_SYNC_LIMITS.handshakeTimeoutMs)
  await until(() => sockets.size === 0)
}, 120_000)
