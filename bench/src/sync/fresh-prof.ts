/**
 * Fresh-peer sync CPU per block, for profiling (not a suite): FRESH_N one-block chains
 * (FRESH_SHAPE=many, default) or one chain of FRESH_N blocks (FRESH_SHAPE=one), FRESH_RUNS
 * timed runs after a warm-up; prints wall and process CPU us per block of each run.
 * FRESH_PROF=file writes a CPU profile of the last run's sync. Run: `npx tsx --conditions=@picostack/source src/sync/fresh-prof.ts` from bench/.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { cpuUsage } from 'node:process'
import { signPair } from '@picostack/kernel'
import { BenchCounter, type BenchKernel } from './kernels.ts'
import { meteredLink } from './metered-link.ts'
import { dispatchChains, longTask, tasks, writeChains } from './tasks.ts'

const N = Number(process.env.FRESH_N ?? 20_000)
const RUNS = Number(process.env.FRESH_RUNS ?? 3)
const SHAPE = process.env.FRESH_SHAPE ?? 'many'
/** A file to write the CPU profile of the timed runs' sync to (the last run's). */
const PROF = process.env.FRESH_PROF

async function once(feeds: Parameters<typeof writeChains>[1], blocks: number) {
  const sender: BenchKernel = new BenchCounter(undefined, { secret: signPair().sk })
  const receiver: BenchKernel = new BenchCounter(undefined, { secret: signPair().sk })
  await Promise.all([sender.boot(), receiver.boot()])
  await writeChains(sender, feeds)
  const done = receiver.counted(blocks)
  const session = PROF ? new Session() : undefined
  if (session) {
    session.connect()
    await session.post('Profiler.enable')
    await session.post('Profiler.start')
  }
  const cpu0 = cpuUsage()
  const main0 = mainCpuUs()
  const t0 = performance.now()
  const link = meteredLink(sender.spawnWire(), receiver.spawnWire())
  await done
  const ms = performance.now() - t0
  const cpu = cpuUsage(cpu0)
  const mainUs = mainCpuUs() - main0
  if (session) {
    const { profile } = await session.post('Profiler.stop')
    writeFileSync(PROF!, JSON.stringify(profile))
    session.disconnect()
  }
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
  const k: BenchKernel = new BenchCounter(undefined, { secret: signPair().sk })
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
