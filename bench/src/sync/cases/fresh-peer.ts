/**
 * Case 3, fresh peer (memory-level, the kernel of `pnpm bench kernel`: a store that only
 * counts, `BenchCounter`: the protocol's cost per chain, as the issue measured it; the
 * to-do kernel's store writes an object per block in either shape, ~1,100 blocks/s on this
 * machine, and hides it): an empty peer syncs N one-block chains, and in the same run N
 * blocks of one chain (a task created, then its status changed N - 1 times); beside each,
 * the first 10,000 of the same blocks dispatched straight into a fresh store (no sync).
 * Target: rate(N chains) >= 0.8x rate(one chain).
 */
import { type Feed, PROTOCOL_VERSION } from '@picostack/kernel'
import { printTable } from '../../measure.ts'
import type { Fixture } from '../fixture.ts'
import type { SyncHarness } from '../harness.ts'
import { formatCount, formatRatio, type Verdict, verdict } from '../report.ts'
import { blockBytes, dispatchChains, longTask, writeChains } from '../tasks.ts'

const TARGET_RATE_RATIO = 0.8
/** Blocks dispatched straight into a store beside each sync (at most). */
const STORE_ONLY_BLOCKS = 10_000
/** Blocks of one patch in the store-only run (the sync's patch size). */
const PATCH_BLOCKS = 1024

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
  const rows = []
  const rates: number[] = []
  for (const [name, feeds] of [
    [`${formatCount(N)} one-block chains`, many],
    [`one chain of ${formatCount(N)} blocks`, one],
  ] as const) {
    const sync = await freshSync(h, feeds, N)
    h.progress(`fresh peer: ${name} synced`)
    const storeRate = await storeOnly(h, feeds, storeBlocks)
    const rate = (N / sync.ms) * 1000
    rates.push(rate)
    rows.push({
      run: name,
      'sync ms': sync.ms,
      'blocks/s': rate,
      'wire / block bytes': formatRatio(sync.wire / blockBytes(feeds)),
      [`store only blocks/s (first ${formatCount(storeBlocks)})`]: storeRate,
      'sync / store only': formatRatio(rate / storeRate),
    })
  }
  printTable(
    `fresh peer syncs ${formatCount(N)} blocks (memory-level, counting kernel), protocol v${PROTOCOL_VERSION}`,
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
