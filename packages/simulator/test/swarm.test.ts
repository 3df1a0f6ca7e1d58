/**
 * The swarm's rules: connection bounds, partitions (no link across groups while split,
 * links across them again after the heal), crashes (links reset, the survivor notices a
 * latency later), and restarts (same identity, the database kept).
 */
import { expect, it } from 'vitest'
import { todoSimulator } from './helpers.ts'

const names = Array.from({ length: 12 }, (_, i) => `s${i}`)

it('keeps links within groups while partitioned, and across them after the heal', async () => {
  const sim = todoSimulator({ seed: 'split', links: [2, 4], maxConnections: 5 })
  for (const name of names) sim.launch(name)
  const left = new Set(names.slice(0, 6))
  const crossing = () =>
    sim.links.filter((l) => l.state === 'open' && left.has(l.a.name) !== left.has(l.b.name))
  await sim.run({ until: 5_000 })
  expect(crossing().length).toBeGreaterThan(0)
  for (const peer of sim.live) {
    expect(peer.links.size).toBeGreaterThanOrEqual(2)
    expect(peer.links.size).toBeLessThanOrEqual(5)
  }
  sim.partition([[...left]])
  await sim.run({ until: 15_000 })
  expect(crossing()).toEqual([])
  const resets = sim.trace.lines().filter((l) => l.ev === 'disconnect' && l.t >= 5_000)
  expect(resets.length).toBeGreaterThan(0)
  for (const line of resets) expect(line.reason).toBe('SIM_LINK_RESET')
  sim.heal()
  await sim.run({ until: 60_000 })
  // On the heal, peers with room dial across the old border.
  expect(sim.trace.lines().some((l) => l.ev === 'connect' && l.t > 15_000)).toBe(true)
  expect(crossing().length).toBeGreaterThan(0)
  for (const peer of sim.live) expect(peer.links.size).toBeLessThanOrEqual(5)
  await sim.close()
})

it('a crash resets its links, the other side notices a latency later; a restart keeps the identity and the tasks', async () => {
  const sim = todoSimulator({ seed: 'crash', link: { latencyMs: 100, jitterMs: 0 } })
  let id = ''
  const alice = sim.launch('alice', { links: [1, 1] }, async (peer) => {
    if (peer.boots === 1) id = await peer.kernel!.addTask('survives restarts')
  })
  const bob = sim.launch('bob', { links: [1, 1] })
  await sim.run({ until: 3_000 })
  expect(await bob.kernel!.tasks.get(id)).toBeDefined()
  const pk = alice.pk
  alice.crash()
  expect(alice.kernel).toBeUndefined()
  await sim.run({ until: 3_050 })
  expect(bob.kernel!.peers).toHaveLength(1) // the reset has not reached bob yet
  await sim.run({ until: 3_200 })
  expect(bob.kernel!.peers).toHaveLength(0)
  alice.restart()
  await sim.run({ until: 8_000 })
  expect(alice.boots).toBe(2)
  expect(alice.kernel!.pk).toBe(pk)
  expect(await alice.kernel!.tasks.get(id)).toBeDefined()
  expect(bob.kernel!.peers).toHaveLength(1)
  await sim.close()
})

it('virtual time after the real date: rules compare with the store clock, so tasks are not "from the future"', async () => {
  const sim = todoSimulator({ seed: 'future', startMs: Date.UTC(2040, 0, 1) })
  let id = ''
  sim.launch('alice', { links: [1, 1] }, async (peer) => {
    if (peer.boots === 1) id = await peer.kernel!.addTask('made in 2040')
  })
  const bob = sim.launch('bob', { links: [1, 1] })
  await sim.run({ until: 3_000 })
  expect((await bob.kernel!.tasks.get(id))?.title).toBe('made in 2040')
  await sim.close()
})
