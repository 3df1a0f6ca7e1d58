/**
 * Case 3, fresh peer (memory-level, the kernel of `pnpm bench kernel`: a store that only
 * counts, `BenchCounter`: the protocol's cost per chain, as the issue measured it; the
 * to-do kernel's store writes an object per block in either shape, ~1,100 blocks/s on this
 * machine, and hides it): an empty peer syncs N one-block chains, and in the same run N
 * blocks of one chain (a task created, then its status changed N - 1 times); beside each,
 * the first 10,000 of the same blocks dispatched straight into a fresh store (no sync).
 * The two shapes are synced alternately {@link ROUNDS} times (this machine's load drifts
 * over a run: one pair swung 0.70x-0.80x between runs of the same code) and each shape's
 * median time is reported, with every run's time beside it.
 * Target: rate(N chains) >= 0.8x rate(one chain), from the medians.
 */
import { type Feed, PROTOCOL_VERSION } from '@picostack/kernel'
import { median, printTable } from '../../measure.ts'
import type { Fixture } from '../fixture.ts'
import type { SyncHarness } from '../harness.ts'
import { formatCount, formatRatio, type Verdict, verdict } from '../report.ts'
import { blockBytes, dispatchChains, longTask, writeChains } from '../tasks.ts'

const TARGET_RATE_RATIO = 0.8
/** Blocks dispatched straight into a store beside each sync (at most). */
const STORE_ONLY_BLOCKS = 10_000
/** Blocks of one patch in the store-only run (the sync's patch size). */
const PATCH_BLOCKS = 1024
/** Syncs of each shape, alternating (`SYNC_BENCH_FRESH_ROUNDS`, default 3). */
const ROUNDS = Number(process.env.SYNC_BENCH_FRESH_ROUNDS ?? 3)

/** Time and wire bytes of a fresh peer syncing `feeds` from a peer holding them (memory-level). */
async function freshSync(
  h: SyncHarness,
  feeds: Feed[],
  blocks: number,
): Promise<{ ms: number; wire: number }> {
  const sender = h.counter()
  const receiver = h.counter()
  await h.boot(sender, receiver)
  await writeChains(sender, feeds)
  const done = receiver.counted(blocks)
  const start = performance.now()
  const link = h.connect(sender, receiver)
  await h.within(done, `fresh peer: ${formatCount(blocks)} blocks`)
  const ms = performance.now() - start
  const wire = link.totalBytes()
  await h.disconnect(link, sender, receiver)
  await h.close(sender, receiver)
  return { ms, wire }
}

/**
 * Blocks per second of the first `count` of the same blocks dispatched straight into a
 * fresh store, in patch-sized runs (no sync): the receiver's floor.
 */
async function storeOnly(h: SyncHarness, all: Feed[], count: number): Promise<number> {
  const feeds: Feed[] = []
  for (let left = count, i = 0; left > 0 && i < all.length; i++) {
    feeds.push(all[i]!.slice(0, left))
    left -= feeds[feeds.length - 1]!.length
  }
  const k = h.counter()
  await k.boot()
  const patches = feeds.flatMap((feed) => {
    const runs: Feed[] = []
    for (let i = 0; i < feed.length; i += PATCH_BLOCKS) runs.push(feed.slice(i, i + PATCH_BLOCKS))
    return runs
  })
  const start = performance.now()
  await dispatchChains(k, patches)
  const ms = performance.now() - start
  await h.close(k)
  return (count / ms) * 1000
}

export async function freshPeer(h: SyncHarness, fx: Fixture): Promise<Verdict[]> {
  const N = fx.n
  const storeBlocks = Math.min(N, STORE_ONLY_BLOCKS)
  const many = fx.all()
  const one = [longTask(N)]
  const warm = many.slice(0, 2000)
  await freshSync(h, warm, warm.length) // warm-up (JIT), untimed
  const shapes = [
    { name: `${formatCount(N)} one-block chains`, feeds: many, ms: [] as number[], wire: 0 },
    { name: `one chain of ${formatCount(N)} blocks`, feeds: one, ms: [] as number[], wire: 0 },
  ]
  for (let round = 1; round <= ROUNDS; round++) {
    for (const shape of shapes) {
      const sync = await freshSync(h, shape.feeds, N)
      shape.ms.push(sync.ms)
      shape.wire = sync.wire
      h.progress(`fresh peer: ${shape.name} synced (round ${round} of ${ROUNDS})`)
    }
  }
  const rows = []
  const rates: number[] = []
  for (const shape of shapes) {
    const storeRate = await storeOnly(h, shape.feeds, storeBlocks)
    const rate = (N / median(shape.ms)) * 1000
    rates.push(rate)
    rows.push({
      run: shape.name,
      'sync ms (median)': median(shape.ms),
      'each run ms': shape.ms.map((ms) => ms.toFixed(0)).join(' / '),
      'blocks/s': rate,
      'wire / block bytes': formatRatio(shape.wire / blockBytes(shape.feeds)),
      [`store only blocks/s (first ${formatCount(storeBlocks)})`]: storeRate,
      'sync / store only': formatRatio(rate / storeRate),
    })
  }
  printTable(
    `fresh peer syncs ${formatCount(N)} blocks (memory-level, counting kernel), ${ROUNDS} rounds alternated, protocol v${PROTOCOL_VERSION}`,
    rows,
  )
  return [
    verdict(
      `fresh peer: rate of ${formatCount(N)} chains / rate of one ${formatCount(N)}-block chain`,
      rates[0]! / rates[1]!,
      'at least',
      TARGET_RATE_RATIO,
      formatRatio,
    ),
  ]
}
