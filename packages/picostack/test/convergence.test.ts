import type { Plug } from '@picostack/net'
import { expect, test } from 'vitest'
import { KernelError } from '../src/index.ts'
import { CounterKernel, chainsOf, converged, random, type TapLog, tap, until } from './helpers.ts'

interface Link {
  a: number
  b: number
  plugs: [Plug, Plug]
  log: TapLog
}

function connect(kernels: CounterKernel[], a: number, b: number): Link {
  const plugs: [Plug, Plug] = [kernels[a]!.spawnWire(), kernels[b]!.spawnWire()]
  return { a, b, plugs, log: tap(...plugs) }
}

/** No block id appears twice in one direction of one session. */
function expectNoResend(links: Link[]): number {
  let sent = 0
  for (const { log } of links) {
    for (const ids of Object.values(log.blocks)) {
      expect(new Set(ids).size).toBe(ids.length)
      sent += ids.length
    }
  }
  return sent
}

async function expectIdentical(kernels: CounterKernel[]) {
  await until(() => converged(kernels))
  const chains = await chainsOf(kernels[0]!)
  for (const kernel of kernels) {
    expect(await chainsOf(kernel)).toEqual(chains)
    await kernel.store.idle()
    expect(kernel.tally).toEqual(kernels[0]!.tally)
  }
  return chains
}

test.each([0x5eed, 7, 2026])(
  '5 kernels in a line, then a ring, with random disconnects converge to identical states (seed %i)',
  async (seed) => {
    const rand = random(seed)
    const kernels = Array.from({ length: 5 }, () => new CounterKernel())
    await Promise.all(kernels.map((k) => k.boot()))
    let n = 0
    const createSome = async (count: number) => {
      for (let i = 0; i < count; i++) await kernels[Math.floor(rand() * kernels.length)]!.count(n++)
    }
    await createSome(20)
    // A branch feed of kernel 2 syncs like any chain.
    const branch = await kernels[2]!.count(n++, new (await import('@picostack/feed')).Feed())
    await kernels[2]!.count(n++, branch)

    const links: Link[] = []
    const live = new Map<string, Link>()
    const link = (a: number, b: number) => {
      const l = connect(kernels, a, b)
      links.push(l)
      live.set(`${a}-${b}`, l)
    }
    for (let i = 0; i < 4; i++) link(i, i + 1) // a line
    await createSome(10)
    await until(() =>
      kernels.every((k) => k.peers.length === (k === kernels[0] || k === kernels[4] ? 1 : 2)),
    )
    const line = await expectIdentical(kernels)
    expect(line).toHaveLength(6) // 5 main feeds and one branch
    expect(kernels[0]!.tally.blocks).toBe(n)

    link(4, 0) // a ring
    for (let round = 0; round < 12; round++) {
      const edges = [...live.keys()]
      const victim = edges[Math.floor(rand() * edges.length)]!
      live.get(victim)!.plugs[0].close()
      live.delete(victim)
      await createSome(1 + Math.floor(rand() * 5))
      if (rand() < 0.5) await new Promise((resolve) => setTimeout(resolve, rand() * 20))
      const [a, b] = victim.split('-').map(Number) as [number, number]
      link(a, b)
      await createSome(Math.floor(rand() * 3))
    }
    await expectIdentical(kernels)
    expect(kernels[0]!.tally.blocks).toBe(n)
    const sent = expectNoResend(links)
    expect(sent).toBeGreaterThan(n) // blocks did travel, and none twice to the same peer per session
    await Promise.all(kernels.map((k) => k.close()))
  },
)

test('a second connection between the same two kernels is dropped at both ends', async () => {
  const [alice, bob] = [new CounterKernel(), new CounterKernel()]
  await Promise.all([alice.boot(), bob.boot()])
  const first: [Plug, Plug] = [alice.spawnWire(), bob.spawnWire()]
  const second: [Plug, Plug] = [alice.spawnWire(), bob.spawnWire()]
  first[0](first[1])
  second[0](second[1])
  const reasons = await Promise.race([first[0].closed, second[0].closed])
  expect(reasons).toBeInstanceOf(KernelError)
  expect((reasons as KernelError).code).toBe('KERNEL_DUPLICATE_PEER')
  await until(() => alice.peers.length === 1 && bob.peers.length === 1)
  expect(first[0].isClosed !== second[0].isClosed).toBe(true)
  await alice.count(1)
  await until(async () => (await chainsOf(bob)).length === 1)
  await Promise.all([alice.close(), bob.close()])
})

test('connections is a subscribable list of peers; hooks fire on connect and disconnect', async () => {
  const events: string[] = []
  class Hooked extends CounterKernel {
    override onconnect() {
      events.push('connect')
    }
    override ondisconnect() {
      events.push('disconnect')
    }
  }
  const alice = new Hooked()
  const bob = new CounterKernel()
  await Promise.all([alice.boot(), bob.boot()])
  const counts: number[] = []
  const unsubscribe = alice.connections.subscribe((peers) => counts.push(peers.length))
  const plug = alice.spawnWire()
  plug(bob.spawnWire())
  await until(() => alice.peers.length === 1)
  expect(alice.peers[0]!.id).toHaveLength(32)
  plug.close()
  await until(() => alice.peers.length === 0)
  unsubscribe()
  expect(counts).toEqual([0, 1, 0])
  expect(events).toEqual(['connect', 'disconnect'])
  await Promise.all([alice.close(), bob.close()])
})

test('closing a kernel in the middle of a sync leaves its peers working', async () => {
  const [alice, bob, carol] = [new CounterKernel(), new CounterKernel(), new CounterKernel()]
  await Promise.all([alice.boot(), bob.boot(), carol.boot()])
  for (let n = 0; n < 2000; n++) await alice.count(n)
  alice.spawnWire()(bob.spawnWire())
  await until(() => bob.tally.blocks > 0)
  await bob.close() // mid-sync
  await until(() => alice.peers.length === 0)
  alice.spawnWire()(carol.spawnWire())
  await until(() => carol.tally.blocks === 2000)
  expect(carol.tally).toEqual(alice.tally)
  await Promise.all([alice.close(), carol.close()])
})
