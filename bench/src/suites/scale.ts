/**
 * Phone scale: the to-do app (examples/todo: one chain per task, `snapshot: false` so tasks
 * stay on disk) on classic-level, at
 * 10,000 and 100,000 tasks (and 1,000,000 with `SCALE_1M=1`; `SCALE_TASKS=n,m` picks the
 * sizes). Per size, from one run:
 *
 * - create: tasks per second, one awaited `addTask` at a time (1,000 of them expire soon);
 * - boot: a fresh Node process opens the folder and awaits `boot()` (ms), then reads the
 *   first page of 50 tasks (`tasks.query`); heap used after a forced GC, and RSS;
 * - disk: bytes of the folder per task, beside the raw bytes of the task's block;
 * - gc: forgetting the 1,000 expired tasks (state and blocks) with everything else held,
 *   beside the same 1,000 in a folder that holds only them.
 *
 * Targets (issue "phone scale"): boot at 1M <= 300 ms and boot(1M) / boot(10k) <= 2.0;
 * heap after boot at 1M <= 64 MB; create >= 5,000 tasks/s; disk <= 2.0x the raw block
 * bytes; gc of 1,000 expired with 1M held <= 1.2x the cost with 1k held.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { TodoKernel } from 'todo'
import { printTable, ratio } from '../measure.ts'

const EXPIRING = 1000
const SHORT_TTL_MS = 60_000
const PAGE = 50
const MB = 1024 * 1024

/** What the child process measures after a restart. */
interface BootFigures {
  bootMs: number
  firstPageMs: number
  heapMB: number
  rssMB: number
  count: number
}

/** Child mode: `node --expose-gc ... scale.ts` with SCALE_BOOT_DIR set. */
async function bootChild(dir: string): Promise<void> {
  const started = performance.now()
  const todo = new TodoKernel(dir, { snapshot: false })
  await todo.boot()
  const bootMs = performance.now() - started
  const pageStarted = performance.now()
  const page = await todo.tasks.query({ limit: PAGE })
  const firstPageMs = performance.now() - pageStarted
  if (page.items.length !== PAGE) throw new Error(`first page has ${page.items.length} tasks`)
  const count = await todo.tasks.count()
  ;(globalThis as { gc?: () => void }).gc?.()
  const { heapUsed, rss } = process.memoryUsage()
  await todo.close()
  const figures: BootFigures = {
    bootMs,
    firstPageMs,
    heapMB: heapUsed / MB,
    rssMB: rss / MB,
    count,
  }
  process.stdout.write(`${JSON.stringify(figures)}\n`)
}

function folderBytes(dir: string): number {
  let bytes = 0
  for (const name of readdirSync(dir)) bytes += statSync(join(dir, name)).size
  return bytes
}

/** Creates `tasks` tasks (the last `expiring` of them short-lived); returns tasks/s and raw block bytes. */
async function fill(dir: string, tasks: number, expiring: number) {
  const todo = new TodoKernel(dir, { snapshot: false })
  await todo.boot()
  let rawBytes = 0
  const started = performance.now()
  for (let i = 0; i < tasks; i++) {
    const ttlMs = i >= tasks - expiring ? SHORT_TTL_MS : undefined
    const id = await todo.addTask(`task number ${i} of the scale bench`, { ttlMs })
    if (i === 0) rawBytes = (await todo.repo.readBlock(Buffer.from(id, 'hex')))!.blockSize
  }
  const perSecond = (tasks / (performance.now() - started)) * 1000
  await todo.close()
  return { perSecond, rawBytes: rawBytes * tasks }
}

/** Boots `dir` again and times the gc that forgets the short-lived tasks. */
async function gcMs(dir: string): Promise<{ ms: number; expired: number }> {
  const todo = new TodoKernel(dir, { snapshot: false })
  await todo.boot()
  const started = performance.now()
  const { expired } = await todo.store.gc(Date.now() + 2 * SHORT_TTL_MS)
  const ms = performance.now() - started
  await todo.close()
  return { ms, expired }
}

function bootInChild(dir: string): BootFigures {
  const out = execFileSync(
    process.execPath,
    [
      '--expose-gc',
      '--import',
      'tsx',
      '--conditions=@picostack/source',
      fileURLToPath(import.meta.url),
    ],
    { env: { ...process.env, SCALE_BOOT_DIR: dir }, encoding: 'utf8', maxBuffer: 1 << 20 },
  )
  return JSON.parse(out.trim().split('\n').at(-1)!) as BootFigures
}

function sizes(): number[] {
  if (process.env.SCALE_TASKS) return process.env.SCALE_TASKS.split(',').map(Number)
  return process.env.SCALE_1M ? [10_000, 100_000, 1_000_000] : [10_000, 100_000]
}

export default async function scale(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'picostack-scale-'))
  try {
    const baselineDir = join(root, 'baseline')
    await fill(baselineDir, EXPIRING, EXPIRING)
    const baseline = await gcMs(baselineDir)
    const rows: Record<string, string | number>[] = []
    let bootSmallest: number | undefined
    for (const tasks of sizes()) {
      const dir = join(root, String(tasks))
      const { perSecond, rawBytes } = await fill(dir, tasks, EXPIRING)
      const disk = folderBytes(dir)
      const boot = bootInChild(dir)
      if (boot.count !== tasks) throw new Error(`booted with ${boot.count} of ${tasks} tasks`)
      bootSmallest ??= boot.bootMs
      const gc = await gcMs(dir)
      if (gc.expired !== EXPIRING) throw new Error(`gc forgot ${gc.expired} of ${EXPIRING}`)
      rows.push({
        tasks: tasks.toLocaleString('en-US'),
        'create tasks/s': perSecond,
        'boot ms': boot.bootMs.toFixed(1),
        'boot / boot(first size)': ratio(boot.bootMs, bootSmallest),
        'first page ms': boot.firstPageMs.toFixed(2),
        'heap MB': boot.heapMB.toFixed(1),
        'RSS MB': boot.rssMB.toFixed(1),
        'disk B/task': disk / tasks,
        'disk / raw': ratio(disk, rawBytes),
        'gc 1,000 ms': gc.ms.toFixed(1),
        'gc / gc(1k held)': ratio(gc.ms, baseline.ms),
      })
    }
    printTable('scale: the to-do app on classic-level (one chain per task)', rows)
    console.log(
      `\ngc of the same ${EXPIRING.toLocaleString('en-US')} tasks with only them held: ${baseline.ms.toFixed(1)} ms`,
    )
    console.log(
      'targets: boot(1M) <= 300 ms and <= 2.0x boot(10k); heap at 1M <= 64 MB; create >= 5,000/s; disk <= 2.0x raw; gc <= 1.2x',
    )
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

if (process.env.SCALE_BOOT_DIR) await bootChild(process.env.SCALE_BOOT_DIR)
