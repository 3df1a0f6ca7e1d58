/**
 * Fresh-peer sync CPU per block, for profiling (not a suite): FRESH_N (default 20,000)
 * one-block chains (FRESH_SHAPE=many, default) or one chain of FRESH_N blocks
 * (FRESH_SHAPE=one), FRESH_RUNS timed runs after a warm-up, both kernels in this process
 * (in memory, joined by the counting link). Prints per block: wall, process CPU (all
 * threads: signature checks run on the thread pool) and the main thread's CPU (Linux
 * /proc, 10 ms ticks), which predicts the suite's rate ratio on a loaded machine better
 * than wall time. FRESH_STORE=1 adds the same blocks dispatched straight into a store;
 * FRESH_KERNEL=todo uses the to-do kernel; FRESH_PROF=file writes a CPU profile of the
 * last run's sync (FRESH_HEAP=1: a sampled allocation profile instead).
 * Run from bench/: `npx tsx --conditions=@picostack/source src/sync/fresh-prof.ts`.
 */
import { readFileSync } from 'node:fs'
import { cpuUsage } from 'node:process'
import { signPair } from '@picostack/kernel'
import { profiled } from '../profile.ts'
import { BenchCounter, type BenchKernel, BenchTodo } from './kernels.ts'
import { meteredLink } from './metered-link.ts'
import { dispatchChains, longTask, tasks, writeChains } from './tasks.ts'

const N = Number(process.env.FRESH_N ?? 20_000)
const RUNS = Number(process.env.FRESH_RUNS ?? 3)
const SHAPE = process.env.FRESH_SHAPE ?? 'many'
/** A file to write the CPU profile of the timed runs' sync to (the last run's). */
const PROF = process.env.FRESH_PROF
/** With FRESH_PROF: a sampled allocation profile (.heapprofile) instead of a CPU one. */
const HEAP = process.env.FRESH_HEAP === '1'

/** FRESH_KERNEL=todo: the to-do app's kernel (TodoKernel as `pnpm bench modem` runs it, in memory); else the counting one. */
const TODO = process.env.FRESH_KERNEL === 'todo'
const kernel = (): BenchKernel =>
  TODO
    ? new BenchTodo(undefined, { secret: signPair().sk })
    : new BenchCounter(undefined, { secret: signPair().sk })

async function once(feeds: Parameters<typeof writeChains>[1], blocks: number) {
  const sender = kernel()
  const receiver = kernel()
  await Promise.all([sender.boot(), receiver.boot()])
  await writeChains(sender, feeds)
  const done = receiver.counted(blocks)
  const { ms, cpu, mainUs, link } = await profiled(
    async () => {
      const cpu0 = cpuUsage()
      const main0 = mainCpuUs()
      const t0 = performance.now()
      const link = meteredLink(sender.spawnWire(), receiver.spawnWire())
      await done
      const ms = performance.now() - t0
      return { ms, cpu: cpuUsage(cpu0), mainUs: mainCpuUs() - main0, link }
    },
    PROF,
    HEAP,
  )
  link.close()
  await Promise.all([sender.close(), receiver.close()])
  return { ms, cpuUs: cpu.user + cpu.system, mainUs }
}

/** CPU time of the main thread so far, us (Linux: /proc, 10 ms ticks). */
function mainCpuUs(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10_000
}

/** CPU of dispatching `feeds` straight into a fresh store (runs of 1,024 blocks), no sync. */
async function storeOnly(feeds: Parameters<typeof writeChains>[1], blocks: number) {
  const k = kernel()
  await k.boot()
  const runs = feeds.flatMap((f) =>
    Array.from({ length: Math.ceil(f.length / 1024) }, (_, i) =>
      f.slice(i * 1024, i * 1024 + 1024),
    ),
  )
  const cpu0 = cpuUsage()
  const main0 = mainCpuUs()
  const t0 = performance.now()
  await dispatchChains(k, runs)
  const ms = performance.now() - t0
  const cpu = cpuUsage(cpu0)
  const mainUs = mainCpuUs() - main0
  await k.close()
  console.log(
    `  store only: wall ${((ms * 1000) / blocks).toFixed(1)} us/block, cpu ${((cpu.user + cpu.system) / blocks).toFixed(1)} us/block, main thread ${(mainUs / blocks).toFixed(1)} us/block`,
  )
}

const feeds = SHAPE === 'one' ? [longTask(N)] : tasks(0, N)
await once(SHAPE === 'one' ? [longTask(2000)] : feeds.slice(0, 2000), 2000)
for (let i = 0; i < RUNS; i++) {
  const { ms, cpuUs, mainUs } = await once(feeds, N)
  console.log(
    `${SHAPE} N=${N}: wall ${((ms * 1000) / N).toFixed(1)} us/block, cpu ${(cpuUs / N).toFixed(1)} us/block, main thread ${(mainUs / N).toFixed(1)} us/block`,
  )
  if (process.env.FRESH_STORE) await storeOnly(feeds, N)
}
