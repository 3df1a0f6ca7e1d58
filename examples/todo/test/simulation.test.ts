/**
 * The to-do app in a simulated swarm (`@picostack/simulator`): 100 peers in this process,
 * on virtual time, each with 3 to 8 links (latency, jitter, 250 kB/s, 1% loss). 15 peers
 * make a task (5 live 20 s, 10 live an hour and change status); 20 peers churn (half
 * crash, half leave, all come back on their database); the swarm is split in two at 30 s
 * and healed 60 s later. At the end every live peer holds the same tasks, and the short
 * ones are gone from every state and every disk. Three virtual minutes take seconds.
 */

import { fromHex } from '@picostack/kernel'
import { Simulator } from '@picostack/simulator'
import { expect, it } from 'vitest'
import { TodoKernel } from '../src/kernel.ts'

const PEERS = 100
const SHORT_TTL_MS = 20_000
const LONG_TTL_MS = 3_600_000
const PARTITION_AT_MS = 30_000
const HEAL_AFTER_MS = 60_000

/** A kernel's tasks as comparable text: id and status. */
const view = (kernel: TodoKernel) => kernel.list().map((t) => `${t.id}:${t.status}`)

function scenario(seed: number) {
  const sim = new Simulator<TodoKernel>({
    seed,
    // stateOf reads the whole list synchronously: the kernels keep the snapshot.
    kernel: (db, options) => new TodoKernel(db, { ...options, snapshot: true }),
    stateOf: view,
    links: [3, 6], // each peer dials up to 3..6 links; accepted ones make at most 8
    maxConnections: 8,
    link: { latencyMs: 40, jitterMs: 20, bandwidthBytesPerSec: 250_000, loss: 0.01 },
  })
  const names = Array.from({ length: PEERS }, (_, i) => `p${String(i).padStart(2, '0')}`)
  const makers = sim.random.shuffle(names).slice(0, 15)
  for (const name of names) {
    sim.launch(name, {}, (peer) => {
      const maker = makers.indexOf(peer.name)
      if (peer.boots > 1 || maker === -1) return // one task per maker, on its first boot
      const short = maker < 5
      peer.setTimeout(
        async () => {
          const ttlMs = short ? SHORT_TTL_MS : LONG_TTL_MS
          const id = await peer.kernel!.addTask(`task of ${peer.name}`, { ttlMs })
          peer.signal('created', { id, short })
          if (!short) peer.setTimeout(() => peer.kernel!.setStatus(id, 'doing'), 10_000)
        },
        sim.random.int(1_000, 80_000),
      )
    })
  }
  // 20% churn: down between 10 s and 100 s, back 5 to 30 s later.
  for (const [i, name] of sim.random
    .shuffle(names)
    .slice(0, PEERS / 5)
    .entries()) {
    const peer = sim.peer(name)
    sim.setTimeout(
      () => {
        if (i % 2 === 0) peer.crash()
        else peer.leave()
        sim.setTimeout(() => peer.restart(), sim.random.int(5_000, 30_000))
      },
      sim.random.int(10_000, 100_000),
    )
  }
  const halves = sim.random.shuffle(names)
  sim.setTimeout(
    () => sim.partition([halves.slice(0, PEERS / 2), halves.slice(PEERS / 2)]),
    PARTITION_AT_MS,
  )
  sim.setTimeout(() => sim.heal(), PARTITION_AT_MS + HEAL_AFTER_MS)
  return sim
}

it('100 peers, 20% churn, a partition healed after 60 s: the same tasks everywhere, short ones expired', async () => {
  const sim = scenario(7)
  await sim.run({ until: 180_000 })
  const report = sim.report()

  const created = sim.signals.map((s) => s.data as { id: string; short: boolean })
  const long = created.filter((task) => !task.short).map((task) => task.id)
  const short = created.filter((task) => task.short).map((task) => task.id)
  expect(short.length).toBeGreaterThanOrEqual(3)
  expect(long.length).toBeGreaterThanOrEqual(6)

  const live = sim.live
  expect(live).toHaveLength(PEERS) // every churned peer came back
  const tasks = view(live[0]!.kernel!)
  expect(tasks.map((task) => task.split(':')[0]).sort()).toEqual([...long].sort())
  for (const peer of live) {
    expect(view(peer.kernel!)).toEqual(tasks)
    const links = [...peer.links].filter((link) => link.state === 'open').length
    expect(links).toBeGreaterThanOrEqual(3)
    expect(links).toBeLessThanOrEqual(8)
    for (const id of short) expect(await peer.kernel!.repo.summary(fromHex(id))).toBeUndefined()
  }
  // The peers disagreed while split, and agree from some time after the heal to the end.
  const { convergedAtMs, points } = report.summary.convergence
  expect(points.some((p) => p.largestGroup < p.live)).toBe(true)
  expect(convergedAtMs).toBeGreaterThan(PARTITION_AT_MS + HEAL_AFTER_MS)
  await sim.close()
}, 120_000)
