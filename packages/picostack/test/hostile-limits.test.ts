import { signPair } from '@picostack/feed'
import { afterEach, expect, test } from 'vitest'
import { type ChainHead, encodeMessage, Feed, type Message } from '../src/index.ts'
import { CounterKernel, until } from './helpers.ts'
import { HostilePeer, INITIATOR_ID } from './hostile-peer.ts'

const kernels: CounterKernel[] = []
afterEach(async () => {
  await Promise.all(kernels.splice(0).map((k) => k.close()))
})

async function boot(kernel: CounterKernel): Promise<CounterKernel> {
  kernels.push(kernel)
  await kernel.boot()
  return kernel
}

function randomHeads(count: number): ChainHead[] {
  return Array.from({ length: count }, () => ({
    chainId: crypto.getRandomValues(new Uint8Array(64)),
    headId: crypto.getRandomValues(new Uint8Array(64)),
    height: 1,
  }))
}

/** One-block chains of `kernel`, dispatched as branches; their chain ids. */
async function chains(kernel: CounterKernel, count: number): Promise<Uint8Array[]> {
  const { sk } = signPair()
  const ids: Uint8Array[] = []
  for (let n = 0; n < count; n++) {
    const feed = new Feed()
    feed.append(CounterKernel.encodeBlock('count', { n }), sk)
    await kernel.dispatch(feed)
    ids.push(feed.first!.sig)
  }
  return ids
}

function want(chainId: Uint8Array): Uint8Array {
  return encodeMessage({ type: 'want', chainId, height: 0, headId: undefined })
}

/**
 * A hostile peer of `kernel` that says hello as `nodeId` and opens a reconciliation pass
 * with one empty fingerprint (it holds nothing), so `kernel` offers what it has.
 */
async function openingPeer(
  kernel: CounterKernel,
  nodeId: typeof INITIATOR_ID,
): Promise<HostilePeer> {
  const peer = new HostilePeer(kernel.spawnWire())
  await peer.hello(undefined, nodeId)
  await peer.send(
    encodeMessage({
      type: 'ranges',
      salt: new Uint8Array(16),
      entries: [
        { kind: 'fingerprint', prefix: new Uint8Array(0), count: 0, fingerprint: undefined },
      ],
      resume: undefined,
    }),
  )
  return peer
}

/** A kernel whose `onquery` answers only when `release()` is called. */
class Stalling extends CounterKernel {
  #release: (() => void) | undefined
  readonly #released = new Promise<void>((resolve) => {
    this.#release = resolve
  })
  release() {
    this.#release!()
  }
  override async onquery(payload: Uint8Array) {
    await this.#released
    return payload
  }
}

test('more than maxWants chains waiting are refused with KERNEL_FLOOD; wants for chains not held cost nothing', async () => {
  // One chain per patch, one patch in flight, and the peer never acknowledges: what it wants
  // waits behind the first patch until its reply times out.
  const alice = await boot(
    new CounterKernel(undefined, {
      limits: { maxWants: 4, maxPatchChains: 1, patchWindow: 1 },
      wire: { replyTimeoutMs: 500 },
    }),
  )
  const held = await chains(alice, 6)
  const evil = await openingPeer(alice, INITIATOR_ID)
  await until(() => evil.received.some((m) => m.type === 'patch'))
  for (const chainId of randomHeads(20).map((h) => h.chainId)) await evil.send(want(chainId))
  expect(evil.errors).toEqual([])
  for (const chainId of held) await evil.send(want(chainId))
  expect(evil.errors).toEqual(['KERNEL_FLOOD', 'KERNEL_FLOOD'])
  await evil.send(want(held[0]!)) // already waiting: not one more
  expect(evil.errors).toHaveLength(2)
  // The replies time out one by one: alice sends everything, and the wanted chains no longer wait.
  const sent = () =>
    evil.received.flatMap((m: Message) => (m.type === 'patch' ? m.segments : [])).length
  await until(() => sent() >= held.length)
  await evil.send(want(held[5]!))
  expect(evil.errors).toHaveLength(2)
})

test('queries past maxPendingQueries are answered KERNEL_FLOOD at once, without a strike', async () => {
  const alice = (await boot(
    new Stalling(undefined, { limits: { maxPendingQueries: 3 } }),
  )) as Stalling
  const bob = await boot(new CounterKernel())
  alice.spawnWire()(bob.spawnWire())
  await until(() => bob.peers.length === 1 && alice.peers.length === 1)
  const [peer] = bob.peers
  const asked = Array.from({ length: 5 }, (_, i) =>
    peer!.query(Uint8Array.of(i)).then(
      (answer) => `answer ${answer[0]}`,
      (err: { code: string; message: string }) => `${err.code} ${err.message.split(':')[0]}`,
    ),
  )
  const refused = await Promise.race([
    Promise.all(asked.slice(3)),
    new Promise((r) => setTimeout(r, 2000)),
  ])
  expect(refused).toEqual(['KERNEL_REMOTE_ERROR KERNEL_FLOOD', 'KERNEL_REMOTE_ERROR KERNEL_FLOOD'])
  alice.release()
  expect(await Promise.all(asked.slice(0, 3))).toEqual(['answer 0', 'answer 1', 'answer 2'])
  expect(alice.peers[0]!.stats.strikes).toBe(0)
})

test('past maxInboxBytes waiting to be handled, messages are refused with KERNEL_FLOOD and dropped', async () => {
  const alice = (await boot(
    new Stalling(undefined, { limits: { maxInboxBytes: 1000, maxStrikes: 100 } }),
  )) as Stalling
  const evil = new HostilePeer(alice.spawnWire())
  await evil.hello()
  // A query alice cannot answer yet holds up her inbox; what comes after it waits.
  const stuck = evil.request(encodeMessage({ type: 'query', payload: Uint8Array.of(1) }))
  const wants = randomHeads(30).map((h) => want(h.chainId)) // 71 B each
  const sends = wants.map((w) => evil.send(w))
  await until(() => evil.errors.length > 0)
  expect(new Set(evil.errors)).toEqual(new Set(['KERNEL_FLOOD']))
  const fit = Math.floor(1000 / wants[0]!.length)
  await until(() => evil.errors.length >= 30 - fit)
  expect(evil.errors.length).toBeLessThanOrEqual(30 - fit + 1)
  alice.release()
  expect(await stuck).toEqual({ type: 'answer', payload: Uint8Array.of(1) })
  await Promise.all(sends)
})

test('a sync limit must be positive; only eagerPeers may be 0 (relayed changes only announced)', () => {
  for (const limits of [{ maxWants: 0 }, { eagerPeers: -1 }, { maxSessions: Number.NaN }]) {
    expect(() => new CounterKernel(undefined, { limits })).toThrow(
      expect.objectContaining({ code: 'KERNEL_INVALID_INPUT' }),
    )
  }
  expect(() => new CounterKernel(undefined, { limits: { eagerPeers: 0 } })).not.toThrow()
})

test('a peer announcing chains it never sends holds at most a quarter of the wants: an honest announcement is still asked for', async () => {
  const alice = await boot(new CounterKernel(undefined, { limits: { maxWants: 16 } }))
  const wants = (peer: HostilePeer) => peer.received.filter((m) => m.type === 'want').length
  const evil = await openingPeer(alice, INITIATOR_ID)
  await evil.send(encodeMessage({ type: 'have', heads: randomHeads(16) }))
  await until(() => wants(evil) === 4)
  const honest = await openingPeer(alice, Uint8Array.of(...new Uint8Array(15), 1))
  await honest.send(encodeMessage({ type: 'have', heads: randomHeads(1) }))
  await until(() => wants(honest) === 1)
  await new Promise((resolve) => setTimeout(resolve, 50))
  expect(wants(evil)).toBe(4) // a quarter of maxWants, within wantRetryMs
})
