/**
 * The swarm simulator: how many peers x virtual seconds it runs per wall second, for the
 * to-do app's kernel on links of 40 ms (+20 ms jitter), 250 kB/s, 1% loss, 3 to 6 links
 * each. Two workloads side by side, each at 25 and 100 peers: an idle swarm (connections,
 * handshakes, keepalive) and a busy one (a quarter of the peers make a task, and change
 * its status 10 s later; each block is gossiped to every peer). One run each, 120 virtual s.
 */
import { Simulator } from '@picostack/simulator'
import { TodoKernel } from 'todo'
import { printTable, ratio } from '../measure.ts'

const VIRTUAL_MS = Number(process.env.SIMULATOR_BENCH_MS ?? 120_000)

async function run(peers: number, busy: boolean) {
  const sim = new Simulator<TodoKernel>({
    seed: 'bench',
    kernel: (db, options) => new TodoKernel(db, options),
    stateOf: (kernel) => kernel.list().map((t) => `${t.id}:${t.status}`),
    links: [3, 6],
    link: { latencyMs: 40, jitterMs: 20, bandwidthBytesPerSec: 250_000, loss: 0.01 },
  })
  for (let i = 0; i < peers; i++) {
    sim.launch(`p${i}`, {}, (peer) => {
      if (!busy || peer.boots > 1 || i % 4 !== 0) return
      peer.setTimeout(
        async () => {
          const id = await peer.kernel!.addTask(`task of ${peer.name}`)
          peer.setTimeout(() => peer.kernel!.setStatus(id, 'doing'), 10_000)
        },
        sim.random.int(1_000, VIRTUAL_MS / 2),
      )
    })
  }
  const start = performance.now()
  await sim.run({ until: VIRTUAL_MS })
  const wallMs = performance.now() - start
  const { totals } = sim.report().summary
  await sim.close()
  return { wallMs, frames: totals.frames, blocks: totals.blocksReceived }
}

export default async function simulatorSuite(): Promise<void> {
  const rows: Record<string, string | number>[] = []
  for (const peers of [25, 100]) {
    const idle = await run(peers, false)
    const busy = await run(peers, true)
    const rate = (r: { wallMs: number }) => (peers * VIRTUAL_MS) / r.wallMs
    for (const [name, r] of [
      ['idle swarm', idle],
      ['busy swarm (to-do tasks)', busy],
    ] as const) {
      rows.push({
        case: `${name}, ${peers} peers`,
        'wall s': (r.wallMs / 1000).toFixed(1),
        'peer x virtual s / wall s': rate(r),
        'frames / wall s': (r.frames / r.wallMs) * 1000,
        'blocks received': r.blocks,
        'vs idle': ratio(rate(r), rate(idle)),
      })
    }
  }
  printTable(`simulator: ${VIRTUAL_MS / 1000} virtual s per run, one run each`, rows)
}
