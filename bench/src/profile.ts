/** Profiles for the benches' profiling scripts (not suites): node:inspector on this process. */
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'

/**
 * Runs `run` with a CPU profile written to `file` (sampled every `PROFILE_INTERVAL_US`
 * microseconds when set), or (`heap`) a sampling heap profile of
 * what it allocates on the JavaScript heap (every 4 KB, objects freed since kept too).
 */
export async function profiled<T>(
  run: () => Promise<T>,
  file: string | undefined,
  heap: boolean,
): Promise<T> {
  if (!file) return run()
  const session = new Session()
  session.connect()
  if (heap) {
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 4096,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    })
  } else {
    await session.post('Profiler.enable')
    // PROFILE_INTERVAL_US=100 samples every 100 us (V8's default is 1,000: too coarse for a
    // run of a few hundred ms).
    const interval = Number(process.env.PROFILE_INTERVAL_US ?? 0)
    if (interval > 0) await session.post('Profiler.setSamplingInterval', { interval })
    await session.post('Profiler.start')
  }
  const result = await run()
  const { profile } = heap
    ? await session.post('HeapProfiler.stopSampling')
    : await session.post('Profiler.stop')
  writeFileSync(file, JSON.stringify(profile))
  session.disconnect()
  return result
}
