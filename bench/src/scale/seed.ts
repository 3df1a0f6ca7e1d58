/**
 * The scale bench's fast way to fill a to-do repo: the blocks `TodoKernel.addTask` would
 * make (same author, same body `['tasks', { op: 'create', title, ttlMs }, date]`, one new
 * chain per task), signed here and handed to `store.dispatch` with `verified: true`, a
 * window of them in flight at once. The store writes them through the same path as
 * `addTask` (one atomic repo batch per chain with the object, its order key, backing,
 * timer and byte count), so the folder holds what the app would have written; what is
 * skipped is the kernel's per-call work (one awaited call at a time, the main-chain
 * bookkeeping and the gossip announce, which has no peer to go to here).
 */
import { Feed, type SecretKey, SimpleKernel } from '@picostack/kernel'
import type { TaskOp, TodoKernel } from 'todo'

/** Dispatches in flight at once (the store still applies them one at a time). */
export const IN_FLIGHT = 64

/** What {@link seedTasks} wrote. */
export interface Seeded {
  /** Bytes of the blocks written (`blockSize` summed). */
  rawBytes: number
  /** Tasks per second. */
  perSecond: number
}

/**
 * Writes `count` create blocks of `kernel`'s own identity (`secret` is the kernel's
 * `secret` option); task `i` lives `ttlMsOf(i)`.
 * @throws the store's error (`loud`) when a block is refused
 */
export async function seedTasks(
  kernel: TodoKernel,
  secret: SecretKey,
  count: number,
  ttlMsOf: (i: number) => number,
): Promise<Seeded> {
  let rawBytes = 0
  const started = performance.now()
  const inFlight = new Set<Promise<unknown>>()
  for (let i = 0; i < count; i++) {
    const op: TaskOp = {
      op: 'create',
      title: `task number ${i} of the scale bench`,
      ttlMs: ttlMsOf(i),
    }
    const feed = new Feed()
    feed.append(SimpleKernel.encodeBlock('tasks', op, Date.now()), secret)
    rawBytes += feed.last!.blockSize
    const run = kernel.store.dispatch(feed, { loud: true, verified: true })
    inFlight.add(run)
    run.then(() => inFlight.delete(run))
    if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight)
  }
  await Promise.all(inFlight)
  return { rawBytes, perSecond: (count / (performance.now() - started)) * 1000 }
}
