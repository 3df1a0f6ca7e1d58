import { Feed, signPair, toHex } from '@picostack/feed'
import { encode } from 'cborg'
import { afterEach, beforeEach, expect, test } from 'vitest'
import { encodeMessage, type KernelError, PROTOCOL_VERSION } from '../src/index.ts'
import { CounterKernel, chainsOf, until } from './helpers.ts'
import { HostilePeer, RESPONDER_ID } from './hostile-peer.ts'

function patch(feed: Uint8Array, chainId: Uint8Array, height = 1): Uint8Array {
  return encodeMessage({ type: 'patch', segments: [{ chainId, height, feed }] })
}

function countFeed(ns: number[], sk = signPair().sk): Feed {
  const feed = new Feed()
  for (const n of ns) feed.append(CounterKernel.encodeBlock('count', { n }), sk)
  return feed
}

let alice: CounterKernel
let bob: CounterKernel
beforeEach(async () => {
  alice = new CounterKernel()
  bob = new CounterKernel()
  await Promise.all([alice.boot(), bob.boot()])
  await alice.count(1)
})
afterEach(async () => {
  await Promise.all([alice.close(), bob.close()])
})

test('each kind of bad message gets its typed error; the 10th disconnects; state untouched', async () => {
  const before = await chainsOf(alice)
  const tally = alice.tally
  const evil = new HostilePeer(alice.spawnWire())
  const good = countFeed([5, 6])
  const chainId = good.first!.sig

  const root = encodeMessage({
    type: 'ranges',
    salt: new Uint8Array(16),
    entries: [],
    resume: undefined,
  })
  await evil.send(root) // before hello
  await evil.send(Uint8Array.of(0xff, 0x00, 0x13)) // not CBOR
  expect(evil.errors).toEqual(['KERNEL_PROTOCOL', 'KERNEL_PROTOCOL'])
  await evil.hello(undefined, RESPONDER_ID)
  // Alice, the initiator, opens a pass: her root's count and fingerprint.
  await until(() => evil.received.some((m) => m.type === 'ranges'))
  await evil.send(encode([1, 'not a hello'])) // bad shape
  await evil.send(encode([99, 1])) // unknown type
  expect(evil.errors.slice(2)).toEqual(['KERNEL_PROTOCOL', 'KERNEL_PROTOCOL'])

  const forged = good.buffer.slice()
  forged[4 + good.block(0)!.blockSize - 1]! ^= 1 // flips the last byte of the first body
  expect(await evil.request(patch(forged, chainId))).toMatchObject({
    type: 'error',
    code: 'FEED_SIGNATURE',
  })
  const other = countFeed([7])
  const unlinked = new Uint8Array([...good.buffer, ...other.block(0)!.buffer])
  expect(await evil.request(patch(unlinked, chainId))).toMatchObject({ code: 'FEED_PARENT' })
  expect(await evil.request(patch(good.buffer, other.first!.sig))).toMatchObject({
    code: 'KERNEL_PROTOCOL', // a genesis block whose id is not the named chain id
  })
  const huge = new Uint8Array(1024 * 1024 + 1)
  await evil.send(huge) // over maxMessageBytes
  expect(evil.errors[evil.errors.length - 1]).toBe('KERNEL_TOO_LARGE')
  const big = countFeed(Array.from({ length: 3000 }, (_, n) => n)) // > 256 KiB of feed
  expect(await evil.request(patch(big.buffer, big.first!.sig))).toMatchObject({
    code: 'KERNEL_TOO_LARGE',
  })
  expect(evil.plug.isClosed).toBe(false)
  expect(alice.peers).toHaveLength(1)
  expect(alice.peers[0]!.stats.strikes).toBe(9)

  // The 10th: an ack nobody asked for.
  await evil.send(encodeMessage({ type: 'ack', accepted: 1 }))
  const reason = (await evil.plug.closed) as KernelError
  expect(reason.code).toBe('KERNEL_MISBEHAVING')
  expect(evil.errors.slice(-2)).toEqual(['KERNEL_PROTOCOL', 'KERNEL_MISBEHAVING'])
  expect(alice.peers).toHaveLength(0)

  // Nothing of it reached the repo or the state; honest peers are served.
  expect(await chainsOf(alice)).toEqual(before)
  expect(alice.tally).toEqual(tally)
  alice.spawnWire()(bob.spawnWire())
  await alice.count(2)
  await until(async () => (await chainsOf(bob)).join() === (await chainsOf(alice)).join())
  expect(bob.tally).toEqual(alice.tally)
})

test('a flood past the rate limit gets KERNEL_FLOOD and is disconnected', async () => {
  const evil = new HostilePeer(alice.spawnWire())
  await evil.hello()
  const ping = encodeMessage({ type: 'ping' })
  const sends = Array.from({ length: 3000 }, () => evil.send(ping).catch(() => undefined))
  await Promise.all(sends)
  const reason = (await evil.plug.closed) as KernelError
  expect(reason.code).toBe('KERNEL_MISBEHAVING')
  expect(evil.errors.filter((code) => code === 'KERNEL_FLOOD')).toHaveLength(10)
  expect(evil.errors[evil.errors.length - 1]).toBe('KERNEL_MISBEHAVING')
  // Alice still works.
  await alice.count(2)
  expect(alice.tally.blocks).toBe(2)
})

test('a version 1 peer is dropped with KERNEL_VERSION and told why', async () => {
  const evil = new HostilePeer(alice.spawnWire())
  await evil.hello(1)
  const reason = (await evil.plug.closed) as KernelError
  expect(reason.code).toBe('KERNEL_VERSION')
  expect(evil.errors).toEqual(['KERNEL_VERSION'])
  const told = evil.received.find((m) => m.type === 'error')
  expect(told).toMatchObject({ code: 'KERNEL_VERSION' })
  expect(alice.peers).toHaveLength(0)
})

test('another protocol version is dropped with KERNEL_VERSION', async () => {
  const evil = new HostilePeer(alice.spawnWire())
  await evil.hello(PROTOCOL_VERSION + 1)
  const reason = (await evil.plug.closed) as KernelError
  expect(reason.code).toBe('KERNEL_VERSION')
  expect(evil.errors).toEqual(['KERNEL_VERSION'])
  expect(alice.peers).toHaveLength(0)
})

test('an orphan patch is held back and the gap is asked for with want', async () => {
  const sk = signPair().sk
  const feed = countFeed([1, 2, 3, 4], sk)
  const evil = new HostilePeer(alice.spawnWire())
  await evil.hello()
  const chainId = feed.first!.sig
  expect(await evil.request(patch(feed.slice(0, 2).buffer, chainId))).toEqual({
    type: 'ack',
    accepted: 2,
  })
  // Block 4 without block 3: parent unknown.
  expect(await evil.request(patch(feed.slice(3).buffer, chainId, 4))).toEqual({
    type: 'ack',
    accepted: 0,
  })
  await until(() => evil.received.some((m) => m.type === 'want'))
  const want = evil.received.find((m) => m.type === 'want')
  expect(want).toMatchObject({ type: 'want', height: 2 })
  expect(toHex((want as { headId: Uint8Array }).headId)).toBe(toHex(feed.block(1)!.sig))
  // The gap arrives: block 3, then block 4 from the mempool.
  expect(await evil.request(patch(feed.slice(2, 3).buffer, chainId, 3))).toMatchObject({
    type: 'ack',
  })
  expect((await alice.repo.summary(chainId))!.height).toBe(4)
  expect(alice.peers[0]!.stats.strikes).toBe(0)
})

test('queries reach onquery; a kernel without one answers KERNEL_REMOTE_ERROR', async () => {
  class Echo extends CounterKernel {
    override onquery(payload: Uint8Array) {
      return payload.slice().reverse()
    }
  }
  const echo = new Echo()
  await echo.boot()
  echo.spawnWire()(bob.spawnWire())
  await until(() => bob.peers.length === 1 && echo.peers.length === 1)
  expect([...(await bob.peers[0]!.query(Uint8Array.of(1, 2, 3)))]).toEqual([3, 2, 1])
  await expect(echo.peers[0]!.query(Uint8Array.of(1))).rejects.toMatchObject({
    code: 'KERNEL_REMOTE_ERROR',
  })
  await echo.close()
})

test('a forged block after valid ones: the valid prefix merges, the forgery is refused', async () => {
  const feed = countFeed([1, 2, 3])
  const chainId = feed.first!.sig
  const evil = new HostilePeer(alice.spawnWire())
  await evil.hello()
  const forged = feed.buffer.slice()
  forged[forged.length - 1]! ^= 1 // the third block's body
  expect(await evil.request(patch(forged, chainId))).toMatchObject({ code: 'FEED_SIGNATURE' })
  expect((await alice.repo.summary(chainId))!.height).toBe(2)
  expect(alice.tally.blocks).toBe(3) // alice's own block and the two valid ones
  // A forged orphan (parent unknown) is refused before it reaches the mempool.
  const orphan = countFeed([1, 2, 3, 4])
  const bytes = orphan.slice(2).buffer.slice()
  bytes[bytes.length - 1]! ^= 1
  expect(await evil.request(patch(bytes, orphan.first!.sig, 3))).toMatchObject({
    code: 'FEED_SIGNATURE',
  })
  expect(await alice.repo.summary(orphan.first!.sig)).toBeUndefined()
  expect(evil.received.some((m) => m.type === 'want')).toBe(false)
  expect(alice.peers[0]!.stats.strikes).toBe(2)
})

test('a patch of several chains: segments merge in order; a forged one stops the rest', async () => {
  const evil = new HostilePeer(alice.spawnWire())
  await evil.hello()
  const feeds = [countFeed([1]), countFeed([2, 3]), countFeed([4]), countFeed([5])]
  const forged = feeds[2]!.buffer.slice()
  forged[forged.length - 1]! ^= 1
  const segment = (feed: Uint8Array, chainId: Uint8Array) => ({ chainId, height: 1, feed })
  const message = encodeMessage({
    type: 'patch',
    segments: [
      segment(feeds[0]!.buffer, feeds[0]!.first!.sig),
      segment(feeds[1]!.buffer, feeds[1]!.first!.sig),
      segment(forged, feeds[2]!.first!.sig),
      segment(feeds[3]!.buffer, feeds[3]!.first!.sig),
    ],
  })
  expect(await evil.request(message)).toMatchObject({ type: 'error', code: 'FEED_SIGNATURE' })
  for (const [i, feed] of feeds.entries()) {
    expect((await alice.repo.summary(feed.first!.sig))?.height).toBe(
      i < 2 ? feed.length : undefined,
    )
  }
  expect(alice.tally.blocks).toBe(4) // alice's own block, then 1 + 2
  const honest = encodeMessage({
    type: 'patch',
    segments: [feeds[2]!, feeds[3]!].map((f) => segment(f.buffer, f.first!.sig)),
  })
  expect(await evil.request(honest)).toEqual({ type: 'ack', accepted: 2 })
  expect(alice.peers[0]!.stats.strikes).toBe(1)
})
