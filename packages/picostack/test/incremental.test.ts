import { Feed, signPair, toHex } from '@picostack/feed'
import { expect, test } from 'vitest'
import { CounterKernel, chainsOf, tap, until } from './helpers.ts'

const HISTORY = 10_000

test('after a reconnect, one new block costs under 1% of a 10,000-block history', async () => {
  const secret = signPair().sk
  const alice = new CounterKernel(undefined, { secret })
  const bob = new CounterKernel()
  await Promise.all([alice.boot(), bob.boot()])
  // A 10,000-block feed of alice's (a branch), signed outside the kernels, dispatched at once.
  const history = new Feed()
  for (let n = 0; n < HISTORY; n++)
    history.append(CounterKernel.encodeBlock('count', { n }), secret)
  expect((await alice.dispatch(history))!.length).toBe(HISTORY)
  const chainId = history.first!.sig
  const historyBytes = history.buffer.length

  const first = tap(alice.spawnWire(), bob.spawnWire())
  await until(async () => (await bob.repo.summary(chainId))?.height === HISTORY)
  expect(first.blocks['a>b']).toHaveLength(HISTORY)
  expect(first.blocks['b>a']).toHaveLength(0)
  expect(first.bytes).toBeGreaterThan(historyBytes)
  expect(bob.tally).toEqual(alice.tally)

  // Disconnect; alice appends one block to the history (O(1): after its last block); reconnect.
  alice.peers[0]!.close()
  await until(() => alice.peers.length === 0 && bob.peers.length === 0)
  const patch = await alice.count(HISTORY, history)
  const second = tap(alice.spawnWire(), bob.spawnWire())
  await until(async () => (await bob.repo.summary(chainId))?.height === HISTORY + 1)
  // Two hellos; the root's fingerprint, the chain listed as an item, what the other side
  // lacks (its head); a want if the side behind listed it; one patch and its ack.
  await until(() => second.messages >= 7)
  await new Promise((resolve) => setTimeout(resolve, 100))
  expect(second.messages).toBeLessThanOrEqual(8)
  expect(second.blocks['a>b']).toEqual([toHex(patch.last!.sig)])
  expect(second.blocks['b>a']).toHaveLength(0)
  expect(second.bytes).toBeLessThan(historyBytes / 100)
  expect(await chainsOf(bob)).toEqual(await chainsOf(alice))
  expect(bob.tally).toEqual(alice.tally)
  await Promise.all([alice.close(), bob.close()])
}, 60_000)

test('a partial chain (evicted prefix elsewhere) syncs under its chain id', async () => {
  const author = signPair()
  const feed = new Feed()
  for (let n = 0; n < 5; n++) feed.append(CounterKernel.encodeBlock('count', { n }), author.sk)
  const alice = new CounterKernel()
  const bob = new CounterKernel()
  await Promise.all([alice.boot(), bob.boot()])
  // Alice holds blocks 3..5 of the chain only.
  await alice.store.dispatch(feed.slice(2), { chainId: feed.first!.sig })
  expect((await alice.repo.summary(feed.first!.sig))!.length).toBe(3)
  alice.spawnWire()(bob.spawnWire())
  await until(async () => (await bob.repo.summary(feed.first!.sig))?.length === 3)
  expect(bob.tally).toEqual(alice.tally)
  // The missing prefix arriving later is not prepended (blocks before a partial chain's start).
  await Promise.all([alice.close(), bob.close()])
})

test('1,000 one-block chains sync in a few patches, each block sent once', async () => {
  const alice = new CounterKernel()
  const bob = new CounterKernel()
  await Promise.all([alice.boot(), bob.boot()])
  const author = signPair()
  for (let n = 0; n < 1000; n++) {
    const chain = new Feed()
    chain.append(CounterKernel.encodeBlock('count', { n }), author.sk)
    await alice.dispatch(chain)
  }
  const log = tap(alice.spawnWire(), bob.spawnWire())
  await until(() => bob.tally.blocks === 1000)
  expect(new Set(log.blocks['a>b']).size).toBe(1000)
  expect(log.blocks['a>b']).toHaveLength(1000)
  // Two hellos, the root's fingerprint (and bob's count 0 when alice opened the pass), then
  // 2 patches (up to 512 chains each), each with its ack: no list of chains at all.
  await until(() => log.messages >= 2 + 1 + 2 * 2)
  await new Promise((resolve) => setTimeout(resolve, 100))
  expect(log.messages).toBeLessThanOrEqual(2 + 2 + 2 * 2)
  expect(await chainsOf(bob)).toEqual(await chainsOf(alice))
  await Promise.all([alice.close(), bob.close()])
}, 60_000)
