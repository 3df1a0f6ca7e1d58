/**
 * Case 2, differences (classic-level): N chains in all, N/10 differ: N/20 only one peer
 * holds, 3N/100 only the other, N/50 both hold but one has a newer head (a status block).
 * Target: wire bytes <= 1.2x the bytes of the blocks that had to move.
 */
import { PROTOCOL_VERSION } from '@picostack/kernel'
import { printTable } from '../../measure.ts'
import type { Fixture } from '../fixture.ts'
import { byType, QUIET_MS, type SyncHarness } from '../harness.ts'
import { quiet } from '../metered-link.ts'
import {
  formatBytes,
  formatCount,
  formatMs,
  formatRatio,
  type Verdict,
  verdict,
} from '../report.ts'
import { blockBytes, dispatchChains, withStatus, writeChains } from '../tasks.ts'

const TARGET_DIFF_RATIO = 1.2

export async function differences(h: SyncHarness, fx: Fixture): Promise<Verdict[]> {
  const [a, b] = await fx.pair()
  const newer = fx.known.map((feed, i) => withStatus(feed, i))
  await writeChains(a, fx.onlyA)
  await dispatchChains(a, newer)
  await writeChains(b, fx.onlyB)
  const statusBlocks = newer.map((feed) => feed.slice(1))
  const toB = blockBytes(fx.onlyA) + blockBytes(statusBlocks)
  const toA = blockBytes(fx.onlyB)
  const blocksMoved = fx.onlyA.length + statusBlocks.length + fx.onlyB.length
  const differing = fx.onlyA.length + fx.onlyB.length + fx.known.length

  const done = Promise.all([
    b.counted(fx.onlyA.length + statusBlocks.length),
    a.counted(fx.onlyB.length),
  ])
  const start = performance.now()
  const link = h.connect(a, b)
  await h.within(done, 'differences: every block')
  const heldMs = performance.now() - start
  await quiet([link], { quietMs: QUIET_MS })
  const ms = link.lastFrameAt() - start
  const wire = link.totalBytes()
  await h.disconnect(link, a, b)
  await h.close(a, b)

  const ratio = wire / (toA + toB)
  printTable(
    `differences: ${formatCount(differing)} of ${formatCount(fx.n)} chains differ (classic-level), protocol v${PROTOCOL_VERSION}`,
    [
      {
        'chains only A holds': formatCount(fx.onlyA.length),
        'only B holds': formatCount(fx.onlyB.length),
        'A has a newer head': formatCount(fx.known.length),
        'blocks moved': formatCount(blocksMoved),
        'block bytes moved': formatBytes(toA + toB),
        'wire bytes (both ways)': formatBytes(wire),
        'wire / block bytes': formatRatio(ratio),
        'all held': formatMs(heldMs),
        'to last frame': formatMs(ms),
      },
    ],
  )
  console.log(`bytes by message type: ${byType(link)}`)
  return [
    verdict(
      `${formatCount(differing)} differences among ${formatCount(fx.n)}: wire / block bytes`,
      ratio,
      'at most',
      TARGET_DIFF_RATIO,
      formatRatio,
    ),
  ]
}
