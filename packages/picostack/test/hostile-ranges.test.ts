import { Feed, signPair } from '@picostack/feed'
import { afterEach, expect, test } from 'vitest'
import {
  encodeMessage,
  type FingerprintEntry,
  type ItemsEntry,
  type KernelError,
  type LacksEntry,
  type RangeEntry,
  type Ranges,
} from '../src/index.ts'
import { PassTags } from '../src/sync/pass-tags.ts'
import { HEAP_BOUND_BYTES, usedBytes } from './heap.ts'
import { CounterKernel, chainsOf, until } from './helpers.ts'
import { HostilePeer, INITIATOR_ID, RESPONDER_ID } from './hostile-peer.ts'

const kernels: CounterKernel[] = []
afterEach(async () => {
  await Promise.all(kernels.splice(0).map((k) => k.close()))
})

/** A kernel holding `count` one-block chains. */
async function holding(
  count: number,
  options: ConstructorParameters<typeof CounterKernel>[1] = {},
) {
  const kernel = new CounterKernel(undefined, options)
  kernels.push(kernel)
  await kernel.boot()
  const { sk } = signPair()
  for (let n = 0; n < count; n++) {
    const feed = new Feed()
    feed.append(CounterKernel.encodeBlock('count', { n }), sk)
    await kernel.dispatch(feed)
  }
  return kernel
}

const random = (n: number) => crypto.getRandomValues(new Uint8Array(n))

/** A fingerprint entry with a made-up count and fingerprint. */
function lie(prefix: Uint8Array): FingerprintEntry {
  return { kind: 'fingerprint', prefix, count: 1_000_000, fingerprint: random(8) }
}

/** A `ranges` message; `start`: it opens a pass (with a random salt). */
function ranges(entries: RangeEntry[], start = false): Uint8Array {
  return encodeMessage({
    type: 'ranges',
    salt: start ? random(16) : undefined,
    entries,
    resume: undefined,
  })
}

/** A compact head of item `index`: a height and head part that name no block. */
const head = (index: number) => ({ index, height: 5, head: random(4) })

const rangesOf = (peer: HostilePeer) =>
  peer.received.filter((m): m is Ranges => m.type === 'ranges')

test('lying fingerprints at every level: the kernel splits its own trie down to lists, then is done', async () => {
  const alice = await holding(300, { limits: { listItems: 4 } })
  const before = await chainsOf(alice)
  const evil = new HostilePeer(alice.spawnWire())
  await evil.hello(undefined, INITIATOR_ID)
  await evil.send(ranges([lie(new Uint8Array(0))], true))
  // Whatever alice leaves open, the liar says it differs (split children, every one of them).
  let answered = 0
  for (let round = 0; round < 20; round++) {
    await until(() => rangesOf(evil).length > answered, 2000).catch(() => undefined)
    const mine = rangesOf(evil)
    if (mine.length === answered) break // alice left nothing open
    const last = mine[mine.length - 1]!
    answered = mine.length
    const entries: RangeEntry[] = []
    for (const entry of last.entries) {
      if (entry.kind === 'fingerprint' && entry.count > 0) {
        for (let nibble = 0; nibble < 16; nibble++) {
          entries.push(lie(Uint8Array.from([...entry.prefix, nibble])))
        }
      }
    }
    if (entries.length === 0) break
    await evil.send(ranges(entries.slice(0, 4096)))
  }
  // A trie of 300 items with lists of 4 is a few levels deep: the lies end there.
  expect(answered).toBeLessThanOrEqual(6)
  expect(evil.errors).toEqual([])
  expect(await chainsOf(alice)).toEqual(before) // a lie changes nothing here
})

test('passes opened again and again are cut off past maxReconcileWork with KERNEL_MISBEHAVING', async () => {
  const alice = await holding(20, { limits: { maxReconcileWork: 100 } })
  const evil = new HostilePeer(alice.spawnWire())
  await evil.hello(undefined, INITIATOR_ID)
  // 100 + 4 per item alice holds: 180 units; each pass costs one.
  const sends: Promise<void>[] = []
  for (let i = 0; i < 300 && !evil.plug.isClosed; i++) {
    sends.push(evil.send(ranges([lie(new Uint8Array(0))], true)).catch(() => undefined))
  }
  await Promise.all(sends)
  const reason = (await evil.plug.closed) as KernelError
  expect(reason.code).toBe('KERNEL_MISBEHAVING')
  expect(evil.errors).toEqual(['KERNEL_MISBEHAVING'])
  expect(alice.peers).toHaveLength(0)
})

test('ranges outside the ranges left open, out of order, or a pass opened by the responder are KERNEL_PROTOCOL', async () => {
  const alice = await holding(40) // lists of up to 32: every root child is listed
  const evil = new HostilePeer(alice.spawnWire())
  await evil.hello(undefined, RESPONDER_ID)
  await until(() => rangesOf(evil).length === 1) // alice, the initiator, opened with her root
  // A pass opened by the responder.
  await evil.send(ranges([lie(new Uint8Array(0))], true))
  // Out of order (the decoder refuses it before anything is looked up).
  await evil.send(ranges([lie(Uint8Array.of(2)), lie(Uint8Array.of(1))]))
  // The answer alice waits for: her root split.
  await evil.send(ranges(Array.from({ length: 16 }, (_, n) => lie(Uint8Array.of(n)))))
  await until(() => rangesOf(evil).length === 2)
  const open = rangesOf(evil)[1]!.entries.filter(
    (e) => e.kind === 'items' || (e.kind === 'fingerprint' && e.count > 0),
  )
  expect(open.length).toBeGreaterThan(0)
  // A lacks entry inside a range alice listed but not for that list, and a split of a range
  // she listed: both outside what she left open.
  const lacks: RangeEntry = {
    kind: 'lacks',
    prefix: Uint8Array.of(0, 0),
    lack: new Uint8Array(1),
    heads: [],
    check: new Uint8Array(2),
  }
  await evil.send(ranges([lacks]))
  await evil.send(ranges([lie(Uint8Array.of(1, 0))]))
  await until(() => evil.errors.length >= 4)
  expect(evil.errors).toEqual([
    'KERNEL_PROTOCOL',
    'KERNEL_PROTOCOL',
    'KERNEL_PROTOCOL',
    'KERNEL_PROTOCOL',
  ])
  expect(alice.peers[0]!.stats.strikes).toBe(4)
})

test('an item list longer than listItems is KERNEL_TOO_LARGE; a message past maxItems too', async () => {
  const alice = await holding(10, { limits: { listItems: 4, maxItems: 8 } })
  const evil = new HostilePeer(alice.spawnWire())
  await evil.hello(undefined, RESPONDER_ID)
  await until(() => rangesOf(evil).length === 1)
  const list = (n: number, nibble: number): RangeEntry => ({
    kind: 'items',
    prefix: Uint8Array.of(nibble),
    part: 4,
    tags: random(8 * n),
    genesis: new Uint8Array(0),
  })
  await evil.send(ranges([list(5, 0)])) // one list of 5
  await evil.send(ranges([list(4, 0), list(4, 1), list(1, 2)])) // 9 items in one message
  expect(evil.errors).toEqual(['KERNEL_TOO_LARGE', 'KERNEL_TOO_LARGE'])
})

test('lacks answers with compact heads past the list, or a bitmap not fitting it, are KERNEL_PROTOCOL', async () => {
  const alice = await holding(10) // under listItems: a differing root is listed
  const check = new Uint8Array(2)
  const bad: LacksEntry[] = [
    // A head of item 10 of a list of 10.
    { kind: 'lacks', prefix: new Uint8Array(0), lack: new Uint8Array(2), heads: [head(10)], check },
    // A bitmap of 3 bytes for 10 items.
    { kind: 'lacks', prefix: new Uint8Array(0), lack: new Uint8Array(3), heads: [], check },
  ]
  for (const [i, entry] of bad.entries()) {
    const evil = new HostilePeer(alice.spawnWire())
    const nodeId = RESPONDER_ID.slice()
    nodeId[15] = i
    await evil.hello(undefined, nodeId)
    await until(() => rangesOf(evil).length === 1) // alice's root
    await evil.send(ranges([lie(new Uint8Array(0))])) // it differs: alice lists her 10
    await until(() => rangesOf(evil).length === 2)
    const [list] = rangesOf(evil)[1]!.entries
    expect(list).toMatchObject({ kind: 'items', part: 2, tags: new Uint8Array(0) })
    expect((list as ItemsEntry).genesis).toHaveLength(20) // one-block chains: 2 B each
    await evil.send(ranges([entry]))
    await until(() => evil.errors.length === 1)
    expect(evil.errors).toEqual(['KERNEL_PROTOCOL'])
  }
  // A well-formed answer to the same list is taken (a head of item 9, which alice holds),
  // its check that of the chains it says it holds (items 1 to 9, in list order).
  const evil = new HostilePeer(alice.spawnWire())
  await evil.hello(undefined, RESPONDER_ID)
  await until(() => rangesOf(evil).length === 1)
  const salt = rangesOf(evil)[0]!.salt!
  await evil.send(ranges([lie(new Uint8Array(0))]))
  await until(() => rangesOf(evil).length === 2)
  const ids = (await alice.repo.listChains({ prefix: new Uint8Array(0), limit: 10 })).map(
    (c) => c.chainId,
  )
  const good: LacksEntry = {
    kind: 'lacks',
    prefix: new Uint8Array(0),
    lack: Uint8Array.of(0x80, 0),
    heads: [head(9)],
    check: new PassTags(salt).check(ids.slice(1)),
  }
  await evil.send(ranges([good]))
  // Item 0 lacked: alice pushes it; item 9 at a head she cannot place: she asks with want.
  await until(() => evil.received.some((m) => m.type === 'want'))
  await until(() => evil.received.some((m) => m.type === 'patch'))
  expect(rangesOf(evil)).toHaveLength(2) // the check is hers: nothing to list again
  expect(evil.errors).toEqual([])
})

test("a check that is not the lister's: it lists the range again, wide, once; a short list again, or a second one, is KERNEL_PROTOCOL", async () => {
  const alice = await holding(10)
  const evil = new HostilePeer(alice.spawnWire())
  await evil.hello(undefined, RESPONDER_ID)
  await until(() => rangesOf(evil).length === 1)
  await evil.send(ranges([lie(new Uint8Array(0))])) // it differs: alice lists her 10, short
  await until(() => rangesOf(evil).length === 2)
  const root = new Uint8Array(0)
  const wrong = (): LacksEntry => ({
    kind: 'lacks',
    prefix: root,
    lack: new Uint8Array(0),
    heads: [head(3)],
    check: random(2).map((b, i) => (i === 0 ? b ^ 0xff : b)), // not alice's (1 in 65,536)
  })
  await evil.send(ranges([wrong()]))
  await until(() => rangesOf(evil).length === 3)
  // The same 10 chains in 4-byte parts; the heads of a collided answer are not read.
  const [again] = rangesOf(evil)[2]!.entries
  expect(again).toMatchObject({ kind: 'items', part: 4, prefix: root, tags: new Uint8Array(0) })
  expect((again as ItemsEntry).genesis).toHaveLength(40)
  expect(evil.received.some((m) => m.type === 'want')).toBe(false)
  // A wide list's wrong check is taken as it is: alice lists nothing again.
  await evil.send(ranges([wrong()]))
  await new Promise((resolve) => setTimeout(resolve, 100))
  expect(rangesOf(evil)).toHaveLength(3)
  expect(evil.errors).toEqual([])
  // As the receiver: bob answers the liar's short list with a lacks entry, which the liar
  // may answer with the list again, wide, but not short, and only once.
  const bob = await holding(10)
  const liar = new HostilePeer(bob.spawnWire())
  await liar.hello(undefined, RESPONDER_ID)
  await until(() => rangesOf(liar).length === 1) // bob's root
  const list = (part: number): ItemsEntry => ({
    kind: 'items',
    prefix: root,
    part,
    tags: new Uint8Array(0),
    genesis: Uint8Array.from({ length: 3 * part }, (_, i) => (i % part === 0 ? i : 0)),
  })
  await liar.send(ranges([list(2)]))
  await until(() => rangesOf(liar).length === 2)
  expect(rangesOf(liar)[1]!.entries).toMatchObject([{ kind: 'lacks', prefix: root }])
  await liar.send(ranges([list(2)])) // short again
  await until(() => liar.errors.length === 1)
  await liar.send(ranges([list(4)])) // wide: answered
  await until(() => rangesOf(liar).length === 3)
  await liar.send(ranges([list(4)])) // a second time
  await until(() => liar.errors.length === 2)
  expect(liar.errors).toEqual(['KERNEL_PROTOCOL', 'KERNEL_PROTOCOL'])
})

test('60 sessions that open passes and never answer grow the heap by < 64 MiB', async () => {
  const alice = await holding(200)
  const baseline = usedBytes()
  const peers: HostilePeer[] = []
  for (let i = 0; i < 60; i++) {
    const peer = new HostilePeer(alice.spawnWire())
    const nodeId = INITIATOR_ID.slice()
    nodeId[15] = i // distinct, and below alice's (random) id
    await peer.hello(undefined, nodeId)
    await peer.send(ranges([lie(new Uint8Array(0))], true))
    peers.push(peer)
  }
  await until(() => peers.every((peer) => rangesOf(peer).length === 1))
  const growth = usedBytes() - baseline
  console.log(`60 open passes: ${(growth / 2 ** 20).toFixed(1)} MiB over baseline`)
  expect(alice.peers).toHaveLength(60)
  expect(peers.flatMap((peer) => peer.errors)).toEqual([])
  expect(growth).toBeLessThan(HEAP_BOUND_BYTES)
  const split = rangesOf(peers[0]!)[0]!.entries
  expect(split).toHaveLength(16) // each holds the 16 ranges of its last message, no more
}, 60_000)

test('passes full of empty ranges (push me everything, 4096 times over) keep what waits bounded', async () => {
  const alice = await holding(50)
  const evil = new HostilePeer(alice.spawnWire())
  await evil.hello(undefined, INITIATOR_ID)
  const empty = (i: number): RangeEntry => ({
    kind: 'fingerprint',
    prefix: Uint8Array.of(i >> 8, (i >> 4) & 15, i & 15),
    count: 0,
    fingerprint: undefined,
  })
  const baseline = usedBytes()
  const pass = ranges(
    Array.from({ length: 4096 }, (_, i) => empty(i)),
    true,
  )
  for (let i = 0; i < 12; i++) await evil.send(pass)
  const growth = usedBytes() - baseline
  console.log(`12 passes of 4096 empty ranges: ${(growth / 2 ** 20).toFixed(1)} MiB over baseline`)
  expect(evil.errors).toEqual([])
  expect(growth).toBeLessThan(HEAP_BOUND_BYTES / 8)
  // Alice still sends the liar what she holds.
  await until(() => evil.received.filter((m) => m.type === 'patch').length > 0)
})
