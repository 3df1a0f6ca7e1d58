import { fromHex } from 'picostack'
import { TodoKernel } from 'todo'
import { expect, it } from 'vitest'
import { Simulator } from '../src/index.ts'

const PEERS = 100
const SHORT_TTL_MS = 20_000
const LONG_TTL_MS = 3_600_000

function scenario(seed: number) {
  const sim = new Simulator<TodoKernel>({
    seed,
    kernel: (db, options) => new TodoKernel(db, options),
    stateOf: (kernel) => kernel.list().map((t) => `${t.id}:${t.status}`),
    links: [3, 6],
    maxConnections: 8,
    link: { latencyMs: 40, jitterMs: 20, bandwidthBytesPerSec: 250_000, loss: 0.01 },
  })
  const names = Array.from({ length: PEERS }, (_, i) => `p${String(i).padStart(2, '0')}`)
  // 15 peers each make one task: 5 live 20 s, 10 live an hour and go to 'doing' 10 s
  // later (a second block on the task's chain).
  const makers = sim.random.shuffle(names).slice(0, 15)
  for (const name of names) {
    sim.launch(name, {}, (peer) => {
      const maker = makers.indexOf(peer.name)
      if (peer.boots > 1 || maker === -1) return
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
  // 20% churn: 20 peers go down (half crash, half leave) and come back on their database.
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
  sim.setTimeout(() => sim.partition([halves.slice(0, 50), halves.slice(50)]), 30_000)
  sim.setTimeout(() => sim.heal(), 90_000)
  return sim
}

it('100 to-do peers, churn and a partition: every live peer ends with the same tasks', async () => {
  const wall = performance.now()
  const sim = scenario(7)
  await sim.run({ until: 180_000 })
  const wallMs = performance.now() - wall
  const report = sim.report()
  console.log(report.text().split('\n').slice(0, 12).join('\n'), `\nwall ${wallMs.toFixed(0)} ms`)
  const created = sim.signals.filter((s) => s.name === 'created')
  const data = created.map((s) => s.data as { id: string; short: boolean })
  const long = data.filter((d) => !d.short).map((d) => d.id)
  const short = data.filter((d) => d.short).map((d) => d.id)
  expect(short.length).toBeGreaterThanOrEqual(3)
  const live = sim.live
  expect(live).toHaveLength(PEERS)
  const view = (k: TodoKernel) => k.list().map((t) => `${t.id}:${t.status}`)
  const first = view(live[0]!.kernel!)
  expect(first.map((v) => v.slice(0, 128)).sort()).toEqual([...long].sort())
  for (const peer of live) {
    expect(view(peer.kernel!)).toEqual(first)
    const links = [...peer.links].filter((l) => l.state === 'open').length
    expect(links).toBeGreaterThanOrEqual(3)
    expect(links).toBeLessThanOrEqual(8)
    for (const id of short) expect(await peer.kernel!.repo.summary(fromHex(id))).toBeUndefined()
  }
  await sim.close()
}, 120_000)
