/**
 * The scale bench's gc figure alone, on folders seeded once and copied for each run (a 100k
 * `pnpm bench scale` takes minutes; this takes seconds per gc). Run from `bench/`:
 *
 * - `GC_SEED=dir N=100000 node --import tsx --conditions=@picostack/source src/scale/gc-only.ts`
 *   seeds `dir` as the scale bench fills a size, with `seed.ts`: N tasks of which 1,000 live
 *   an hour, followed by 5,000 long-lived ones (N = 1000: only the 1,000 short-lived ones).
 * - `GC_DIRS=a,b,a,b node ... src/scale/gc-only.ts` copies each folder, opens and closes it
 *   once (as the bench's boot processes do), boots it and times the gc that forgets the
 *   short-lived tasks: one line per folder with the wall time, the process's CPU time (all
 *   threads: LevelDB's compaction and the thread pool's reads too), how many compactions
 *   LevelDB logged during the gc, and V8's garbage collections in it (count, ms of pauses).
 *
 * Options: `GC_COUNT=1` also counts the classic-level calls of the gc (get, getMany and its
 * keys, iterator, keys, values, batch and its ops), the keys the getManys read by kind
 * (`key 07 o`: a store record of tag `o`, `key 03`: a chain record, `key 0a depth 4`: a trie
 * node) and the wall ms from each get, getMany and batch call to its result, summed per kind
 * (`getMany ms`; calls side by side overlap, so a sum can pass the gc's own time);
 * `GC_PROF=dir` writes a CPU profile of each gc there (with `GC_HEAP=1`, a sampling heap
 * profile of what it allocates instead); `GC_SETTLE_MS=n` waits n ms after the
 * boot before the gc.
 *
 * The kernels run on a clock set back to the folder's last change (its seeding), so a folder
 * seeded more than an hour ago still holds its short-lived tasks at the boot (on the real
 * clock the boot's own gc would forget them, and the timed gc would find none).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PerformanceObserver } from 'node:perf_hooks'
import { signPair } from '@picostack/kernel'
import { type Clock, systemClock } from '@picostack/store'
import { ClassicLevel } from 'classic-level'
import { TodoKernel } from 'todo'
import { profiled } from '../profile.ts'
import { seedTasks } from './seed.ts'

/** As in `suites/scale.ts`: the short-lived tasks' time to live, and how many there are. */
const SHORT_TTL_MS = 3_600_000
const EXPIRING = 1000
/** Long-lived tasks after the short-lived ones (the scale bench's create window). */
const TAIL = 5000

const calls: Record<string, number> = {}

/** V8's garbage collections on the main thread since the last reset: how many, and their ms. */
const pauses = { count: 0, ms: 0 }
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    pauses.count++
    pauses.ms += entry.duration
  }
}).observe({ entryTypes: ['gc'] })

/** The calls whose promise's wall time {@link countCalls} sums. */
const TIMED = new Set(['get', 'getMany', 'batch'])

/**
 * Counts a key that a `getMany` reads as `key <kind>`: the repo's namespace byte (hex), with
 * a registry key's first byte after its name (the store's tag, as a character) and a trie
 * node key's depth.
 */
function countKey(key: unknown): void {
  if (!(key instanceof Uint8Array) || key.length < 2) return
  let kind = key[0]!.toString(16).padStart(2, '0')
  if (key[0] === 0x07 && key[1]! < 0x80) kind += ` ${String.fromCharCode(key[2 + key[1]!] ?? 0)}`
  if (key[0] === 0x0a) kind += ` depth ${key[1]}`
  calls[`key ${kind}`] = (calls[`key ${kind}`] ?? 0) + 1
}

/** Counts the calls of classic-level's reads and writes into `calls`, and times some. */
function countCalls(): void {
  const proto = ClassicLevel.prototype as unknown as Record<string, (...args: unknown[]) => unknown>
  for (const name of ['get', 'getMany', 'iterator', 'keys', 'values', 'batch']) {
    const own = proto[name]!
    proto[name] = function (this: unknown, ...args: unknown[]) {
      calls[name] = (calls[name] ?? 0) + 1
      if (Array.isArray(args[0])) {
        calls[`${name} items`] = (calls[`${name} items`] ?? 0) + args[0].length
        if (name === 'getMany') for (const key of args[0]) countKey(key)
      }
      const result = own.apply(this, args)
      if (!TIMED.has(name) || !(result instanceof Promise)) return result
      const started = performance.now()
      const add = () => {
        const ms = `${name} ms`
        calls[ms] = (calls[ms] ?? 0) + performance.now() - started
      }
      result.then(add, add)
      return result
    }
  }
}

async function seed(dir: string, tasks: number): Promise<void> {
  const { sk: secret } = signPair()
  const todo = new TodoKernel(dir, { snapshot: false, secret })
  await todo.boot()
  const long = tasks > EXPIRING ? tasks - EXPIRING - TAIL : 0
  await seedTasks(todo, secret, tasks, (i) =>
    i >= long && i < long + EXPIRING ? SHORT_TTL_MS : todo.taskTtlMs,
  )
  await todo.close()
}

/** LevelDB's compactions logged in `dir` so far. */
function compactions(dir: string): number {
  try {
    return readFileSync(join(dir, 'LOG'), 'utf8').split('Compacting ').length - 1
  } catch {
    return 0
  }
}

/** The system clock set back by the time since `dir` last changed (its seeding). */
function seedClock(dir: string): Clock {
  const ago = Date.now() - statSync(dir).mtimeMs
  return { ...systemClock, now: () => Date.now() - ago }
}

async function gcOnce(source: string, n: number): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'gc-only-'))
  const dir = join(root, 'db')
  const clock = seedClock(source)
  cpSync(source, dir, { recursive: true })
  try {
    const opened = new TodoKernel(dir, { snapshot: false, clock })
    await opened.boot()
    await opened.close()
    const todo = new TodoKernel(dir, { snapshot: false, clock })
    await todo.boot()
    const settle = Number(process.env.GC_SETTLE_MS ?? 0)
    if (settle > 0) await new Promise((resolve) => setTimeout(resolve, settle))
    const compacted = compactions(dir)
    for (const name of Object.keys(calls)) delete calls[name]
    await new Promise((resolve) => setImmediate(resolve)) // the boot's gc entries are in
    pauses.count = 0
    pauses.ms = 0
    const cpu = process.cpuUsage()
    const started = performance.now()
    const name = source.split('/').at(-1)
    const heap = process.env.GC_HEAP === '1'
    const ext = heap ? 'heapprofile' : 'cpuprofile'
    const profile = process.env.GC_PROF && join(process.env.GC_PROF, `${name}-${n}.${ext}`)
    const { expired, evicted } = await profiled(
      () => todo.store.gc(clock.now() + 2 * SHORT_TTL_MS),
      profile,
      heap,
    )
    const ms = performance.now() - started
    const { user, system } = process.cpuUsage(cpu)
    const during = compactions(dir) - compacted
    await new Promise((resolve) => setImmediate(resolve)) // the gc's own gc entries are in
    const v8 = `v8 gc ${pauses.count} x, ${pauses.ms.toFixed(1)} ms`
    await todo.close()
    const rounded = (_: string, v: unknown) => (typeof v === 'number' ? Math.round(v) : v)
    const counted = process.env.GC_COUNT ? ` ${JSON.stringify(calls, rounded)}` : ''
    return `${source}: gc ${ms.toFixed(1)} ms cpu ${((user + system) / 1000).toFixed(0)} ms, expired ${expired}, evicted ${evicted}, compactions during the gc ${during}, ${v8}${counted}`
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

if (process.env.GC_COUNT) countCalls()
if (process.env.GC_SEED) await seed(process.env.GC_SEED, Number(process.env.N ?? EXPIRING))
const sources = (process.env.GC_DIRS ?? '').split(',').filter(Boolean)
for (const [n, source] of sources.entries()) console.log(await gcOnce(source, n))
