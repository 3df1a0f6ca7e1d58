/**
 * Case 1, reconnect (classic-level on a tmp dir: the repo's on-disk index is what is
 * judged): two peers hold the same N one-block chains, were connected once and
 * disconnected; one adds a task (`addTask`), they reconnect. Bytes both ways and the time
 * from the link opening to its last frame (the link then stays quiet for a second), beside
 * the bytes version 1's summaries took for the same repos (`v1-summary.ts`, computed from
 * the version 1 layout, so the figure outlives the version 1 code).
 * Targets: <= 8,000 B, <= 100 ms.
 */
import { PROTOCOL_VERSION } from '@picostack/kernel'
import { printTable } from '../../measure.ts'
import type { Fixture } from '../fixture.ts'
import { byType, QUIET_MS, type SyncHarness } from '../harness.ts'
import { quiet } from '../metered-link.ts'
import { formatBytes, formatCount, formatMs, type Verdict, verdict } from '../report.ts'
import { title, writeChains } from '../tasks.ts'
import { v1SummaryBytes } from '../v1-summary.ts'

const TARGET_RECONNECT_BYTES = 8_000
const TARGET_RECONNECT_MS = 100
/** The first connection's {@link QUIET_MS} (both sides list their repos): ms. */
const FIRST_QUIET_MS = 5000

export async function reconnect(h: SyncHarness, fx: Fixture): Promise<Verdict[]> {
  const [a, b] = await fx.pair()
  await Promise.all([a, b].map((k) => writeChains(k, [...fx.onlyA, ...fx.onlyB])))
  const v1Bytes = (await v1SummaryBytes(a.repo)) + (await v1SummaryBytes(b.repo))

  // The first connection: nothing differs.
  let start = performance.now()
  let link = h.connect(a, b)
  await quiet([link], { quietMs: FIRST_QUIET_MS })
  const first = { bytes: link.totalBytes(), ms: link.lastFrameAt() - start, types: byType(link) }
  await h.disconnect(link, a, b)

  await a.addTask(title(fx.n, ` (added at ${new Date().toISOString()})`))
  const held = b.counted(1)
  start = performance.now()
  link = h.connect(a, b)
  await h.within(held, 'reconnect: the new block')
  const heldMs = performance.now() - start
  await quiet([link], { quietMs: QUIET_MS })
  const again = { bytes: link.totalBytes(), ms: link.lastFrameAt() - start, types: byType(link) }
  await h.disconnect(link, a, b)
  await h.close(a, b)

  printTable(
    `reconnect: both peers hold the same ${formatCount(fx.n)} one-block chains (classic-level), protocol v${PROTOCOL_VERSION}`,
    [
      {
        session: 'first connection, nothing differs',
        'wire bytes (both ways)': formatBytes(first.bytes),
        'to last frame': formatMs(first.ms),
        'block held': '-',
        'bytes by message type': first.types,
      },
      {
        session: 'reconnect after one peer added 1 task',
        'wire bytes (both ways)': formatBytes(again.bytes),
        'to last frame': formatMs(again.ms),
        'block held': formatMs(heldMs),
        'bytes by message type': again.types,
      },
      {
        session: 'v1 summaries of the same repos (computed, both ways)',
        'wire bytes (both ways)': formatBytes(v1Bytes),
        'to last frame': '-',
        'block held': '-',
        'bytes by message type': `summary: ${formatBytes(v1Bytes)}`,
      },
    ],
  )
  console.log(
    `reconnect bytes / v1 summary bytes: ${(again.bytes / v1Bytes).toPrecision(3)} (${formatBytes(again.bytes)} / ${formatBytes(v1Bytes)})`,
  )
  return [
    verdict(
      'reconnect, 1 new block: wire bytes',
      again.bytes,
      'at most',
      TARGET_RECONNECT_BYTES,
      formatBytes,
    ),
    verdict(
      'reconnect, 1 new block: time to last frame',
      again.ms,
      'at most',
      TARGET_RECONNECT_MS,
      formatMs,
    ),
  ]
}
