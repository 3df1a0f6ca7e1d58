/**
 * Makes the report shown in docs/simulator.md: 40 to-do peers, churn and a partition
 * healed 30 s later, on modest links. Writes the report page, the text summary and the
 * trace to a temporary folder, and a PNG of the page (headless Debian Chromium driven by
 * playwright-core) to docs/simulator-report.png. Run it from this package:
 * `tsx --conditions=@picostack/source scripts/screenshot.ts`.
 */
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TodoKernel } from 'todo'
import { launchChromium } from '../../../scripts/chromium.ts'
import { Simulator } from '../src/index.ts'

const PEERS = 40
const OUT = join(import.meta.dirname, '..', '..', '..', 'docs', 'simulator-report.png')

const sim = new Simulator<TodoKernel>({
  seed: 'docs',
  kernel: (db, options) => new TodoKernel(db, { ...options, snapshot: true }), // stateOf reads list()
  stateOf: (kernel) => kernel.list().map((t) => `${t.id}:${t.status}`),
  links: [3, 6],
  link: { latencyMs: 60, jitterMs: 40, bandwidthBytesPerSec: 20_000, loss: 0.02 },
})
const names = Array.from({ length: PEERS }, (_, i) => `p${String(i).padStart(2, '0')}`)
for (const name of names) {
  sim.launch(name, {}, (peer) => {
    if (peer.boots > 1 || sim.random.next() > 0.4) return
    peer.setTimeout(
      async () => {
        const short = sim.random.next() < 0.3
        const id = await peer.kernel!.addTask(`task of ${peer.name}`, {
          ttlMs: short ? 20_000 : 3_600_000,
        })
        peer.signal('created', { id, short })
      },
      sim.random.int(1_000, 60_000),
    )
  })
}
for (const name of sim.random.shuffle(names).slice(0, PEERS / 5)) {
  sim.setTimeout(
    () => {
      sim.peer(name).crash()
      sim.setTimeout(() => sim.peer(name).restart(), sim.random.int(5_000, 20_000))
    },
    sim.random.int(5_000, 70_000),
  )
}
const halves = sim.random.shuffle(names)
sim.setTimeout(() => sim.partition([halves.slice(0, PEERS / 2)]), 20_000)
sim.setTimeout(() => sim.heal(), 50_000)
await sim.run({ until: 120_000 })

const report = sim.report()
const dir = await mkdtemp(join(tmpdir(), 'picostack-sim-'))
await writeFile(join(dir, 'report.html'), report.html())
await writeFile(join(dir, 'summary.txt'), report.text())
await writeFile(join(dir, 'trace.ndjson'), report.ndjson())
await sim.close()

const browser = await launchChromium()
const page = await browser.newPage({ viewport: { width: 1320, height: 760 } })
await page.goto(`file://${join(dir, 'report.html')}`)
await page.screenshot({ path: OUT, fullPage: false })
await browser.close()
console.log(report.text().split('\n').slice(0, 11).join('\n'))
console.log(`report, summary and trace in ${dir}; screenshot ${OUT}`)
