/**
 * What a sync costs for what changed (issue 14), measured on the bytes the protocol puts
 * on the wire: every connection below is two kernels' wires joined by a counting byte link
 * (`bench/src/sync/metered-link.ts`: frameWire from @picostack/net on both ends, frames
 * handed over on the next event-loop turn, so the count is what a socket would carry,
 * frame headers included). The kernels are the to-do app's (`TodoKernel`, tasks on disk,
 * `snapshot: false`; `bench/src/sync/kernels.ts`) except in case 3, the blocks to-do
 * tasks (`bench/src/sync/tasks.ts`: one chain per task, 16 authors; the peers' holdings
 * written straight into their repos, the blocks a session moves applied by the receiver's
 * store in full). Each case is a file of `bench/src/sync/cases/`, on the shared kernels,
 * links and waits of `bench/src/sync/harness.ts` and the chains of `fixture.ts`.
 *
 * 1. Reconnect, classic-level on a tmp dir (the repo's on-disk index is what is judged):
 *    two peers hold the same N one-block chains, were connected once and disconnected;
 *    one adds a task (`addTask`), they reconnect. Bytes both ways and the time from the
 *    link opening to its last frame (the link then stays quiet for a second), beside the
 *    bytes version 1's summaries took for the same repos (`v1-summary.ts`, computed from
 *    the version 1 layout, so the figure outlives the version 1 code). Targets: <= 8,000 B,
 *    <= 100 ms.
 * 2. Differences, classic-level: N chains in all, N/10 differ: N/20 only one peer holds,
 *    3N/100 only the other, N/50 both hold but one has a newer head (a status block).
 *    Target: wire bytes <= 1.2x the bytes of the blocks that had to move.
 * 3. Fresh peer, memory-level, the kernel of `pnpm bench kernel` (a store that only
 *    counts, `BenchCounter`: the protocol's cost per chain, as the issue measured it; the
 *    to-do kernel's store writes an object per block in either shape, ~1,100 blocks/s on
 *    this machine, and hides it): an empty peer syncs N one-block chains, and in the same
 *    run N blocks of one chain (a task created, then its status changed N - 1 times);
 *    beside each, the first 10,000 of the same blocks dispatched straight into a fresh
 *    store (no sync). The shapes alternate 3 times (`SYNC_BENCH_FRESH_ROUNDS`); each
 *    shape's median counts. Target: rate(N chains) >= 0.8x rate(one chain).
 * 4. Mesh, memory-level: 20 peers, a seeded random graph of degree 3-5, each holding the
 *    same 200 tasks; one adds a task. How many times each peer received its block (frames
 *    carrying the block's body, found by its unique title) and the average over the 19
 *    others. Target: <= 2.
 *
 * `SYNC_BENCH_CHAINS=n` scales N (default 100,000, the issue's size; e.g. 10000 for a
 * quick check); `SYNC_BENCH_CASES=reconnect,differences,fresh,mesh` picks cases. Under protocol version 1, whose peers refuse a summary of more than
 * 65,536 chains (`maxRemoteChains`) or 16 MiB of unhandled messages (`maxInboxBytes`;
 * 100,000 entries are 16.8 MB), those limits are raised to fit N, so version 1 has figures
 * at all. A step that waits more than `SYNC_BENCH_TIMEOUT_MS` (default 600,000) fails with
 * what the sessions said.
 */
import { loadavg } from 'node:os'
import { type KernelOptions, PROTOCOL_VERSION } from '@picostack/kernel'
import { printTable } from '../measure.ts'
import { differences } from '../sync/cases/differences.ts'
import { freshPeer } from '../sync/cases/fresh-peer.ts'
import { mesh } from '../sync/cases/mesh.ts'
import { reconnect } from '../sync/cases/reconnect.ts'
import { Fixture } from '../sync/fixture.ts'
import { SyncHarness } from '../sync/harness.ts'
import { formatBytes, formatCount, type Verdict } from '../sync/report.ts'

const N = Number(process.env.SYNC_BENCH_CHAINS ?? 100_000)

/**
 * Version 1 only: room for a summary of every chain (see the file's comment): remembered
 * chains, and the inbox that must hold a whole summary (168 B per chain) when the receiver
 * lags.
 */
const V1_LIMITS = {
  maxRemoteChains: Math.max(65_536, 2 * N),
  maxInboxBytes: Math.max(16 * 1024 * 1024, 400 * N),
}
/** The protocol version under test (a number: the bench runs against either version). */
const VERSION: number = PROTOCOL_VERSION
const limits = (VERSION === 1 ? V1_LIMITS : {}) as KernelOptions['limits']
/** Longest wait for any one step before the bench gives up on it (ms). */
const STEP_TIMEOUT_MS = Number(process.env.SYNC_BENCH_TIMEOUT_MS ?? 600_000)

const CASES: Record<string, (h: SyncHarness, fx: Fixture) => Promise<Verdict[]>> = {
  reconnect,
  differences,
  fresh: freshPeer,
  mesh,
}
/** `SYNC_BENCH_CASES=fresh,mesh` runs only those (default: every case). */
const WANTED = (process.env.SYNC_BENCH_CASES ?? Object.keys(CASES).join(',')).split(',')

export default async function (): Promise<void> {
  console.log(
    `\nsync bench: N = ${formatCount(N)} chains (SYNC_BENCH_CHAINS), protocol version ${PROTOCOL_VERSION}` +
      (VERSION === 1
        ? ` (maxRemoteChains ${formatCount(V1_LIMITS.maxRemoteChains)}, maxInboxBytes ${formatBytes(V1_LIMITS.maxInboxBytes)}, so version 1 can run)`
        : ''),
  )
  const load = () =>
    loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')
  console.log(`load average at start: ${load()} (2 cores shared: times are noisy, bytes are not)`)
  const h = new SyncHarness({ limits, stepTimeoutMs: STEP_TIMEOUT_MS })
  try {
    const fx = new Fixture(h, N)
    const verdicts: Verdict[] = []
    for (const [name, run] of Object.entries(CASES)) {
      if (!WANTED.includes(name)) continue
      try {
        verdicts.push(...(await run(h, fx)))
        h.progress(`${name} done`)
      } catch (err) {
        // A case that fails (a sync that stalls, a session refused) is reported, not fatal.
        const message = err instanceof Error ? err.message : String(err)
        console.log(`\n${name} FAILED: ${message}`)
        verdicts.push({ case: name, figure: 'failed (see above)', target: '-', result: 'NOT MET' })
        await h.abort()
      }
    }
    console.log(`\nload average at end: ${load()}`)
    printTable(
      `sync targets (issue 14), protocol v${PROTOCOL_VERSION}`,
      verdicts.map((v) => ({ ...v })),
    )
  } finally {
    h.removeDirs()
  }
}
