/**
 * To-do-shaped blocks for the sync bench, and the fast ways to put them in a kernel.
 *
 * The blocks are the ones `TodoKernel` makes (examples/todo): a task is a chain of its
 * own whose genesis body is `['tasks', { op: 'create', title, ttlMs }, date]`, later
 * blocks `['tasks', { op: 'status', status }, date]` by the owner. Titles are short
 * English to-dos ("water the plants #812"), 16 authors take turns, every block is
 * Ed25519-signed here, once, and reused by every peer that holds it.
 *
 * Two ways in:
 * - {@link writeChains}: `repo.writeBlocks(..., { verified: true })`, one chain per call,
 *   a window in flight. The repo (blocks, chain records and whatever index the repo keeps
 *   in the same batch) is what it would be after a sync, but the store's state of those
 *   tasks is not built. Used for what a peer *holds* before a measured session: the sync
 *   protocol reads chains from the repo, never the store's objects.
 * - {@link dispatchChains}: `store.dispatch(..., { loud: true, verified: true })`, the
 *   path of `addTask` and of a received patch (objects, order keys, timers written). Used
 *   where the store must know the task (a chain that later gets a status block).
 * Blocks that a measured session moves always go through the receiver's store.
 */
import { Feed, type SecretKey, SimpleKernel, signPair } from '@picostack/kernel'
import type { TaskOp } from 'todo'

/** A task lives 24 h after its last update (the to-do app's default). */
const TTL_MS = 24 * 60 * 60 * 1000
const AUTHORS = 16
/** Writes in flight at once (the repo and the store still apply them one at a time). */
const IN_FLIGHT = 64

const VERBS = ['water', 'buy', 'call', 'fix', 'clean', 'send', 'book', 'pick up', 'review', 'pay']
const THINGS = [
  'the plants',
  'milk and eggs',
  'the dentist',
  'the bike tyre',
  'the kitchen',
  'the invoice to Ana',
  'train tickets',
  'the parcel',
  'the pull request',
  'the rent',
]

/** Deterministic pseudo-random numbers (mulberry32), for seeded runs. */
export function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** The signing identities of the bench's tasks. */
export const authors: readonly SecretKey[] = Array.from({ length: AUTHORS }, () => signPair().sk)

/** A to-do title for task `i` (`suffix` makes it unique across runs when given). */
export function title(i: number, suffix = ''): string {
  return `${VERBS[i % VERBS.length]} ${THINGS[Math.floor(i / VERBS.length) % THINGS.length]} #${i}${suffix}`
}

/** The body `TodoKernel.addTask` signs. */
export function createBody(taskTitle: string, date = Date.now()): Uint8Array {
  const op: TaskOp = { op: 'create', title: taskTitle, ttlMs: TTL_MS }
  return SimpleKernel.encodeBlock('tasks', op, date)
}

/** The body `TodoKernel.setStatus` signs. */
export function statusBody(status: 'todo' | 'doing' | 'done', date = Date.now()): Uint8Array {
  const op: TaskOp = { op: 'status', status }
  return SimpleKernel.encodeBlock('tasks', op, date)
}

/** Tasks `from` .. `from + count - 1`: one one-block chain each, authors taking turns. */
export function tasks(from: number, count: number): Feed[] {
  const date = Date.now()
  return Array.from({ length: count }, (_, k) => {
    const i = from + k
    const feed = new Feed()
    feed.append(createBody(title(i), date), authors[i % AUTHORS]!)
    return feed
  })
}

/** The task chain `feed` (its owner `authors[i % 16]`) with one more status block. */
export function withStatus(feed: Feed, i: number): Feed {
  const next = feed.clone()
  next.append(statusBody('doing'), authors[i % AUTHORS]!)
  return next
}

/** One task whose chain is `length` blocks: created, then its status changed over and over. */
export function longTask(length: number): Feed {
  const sk = authors[0]!
  const date = Date.now()
  const feed = new Feed({ limits: { maxFeedBytes: 2 ** 31 - 1 } })
  feed.append(createBody('one long-lived task', date), sk)
  const statuses = ['doing', 'done', 'todo'] as const
  for (let i = 1; i < length; i++) feed.append(statusBody(statuses[i % 3]!, date), sk)
  return feed
}

/** Bytes of the blocks of `feeds` (each block's encoding, as a patch carries it). */
export function blockBytes(feeds: readonly Feed[]): number {
  let bytes = 0
  for (const feed of feeds) for (const block of feed.blocks) bytes += block.blockSize
  return bytes
}

/** Runs `write` over `items`, a window of {@link IN_FLIGHT} at once. */
async function windowed<T>(items: readonly T[], write: (item: T) => Promise<unknown>) {
  const inFlight = new Set<Promise<unknown>>()
  for (const item of items) {
    const run = write(item)
    inFlight.add(run)
    run.then(() => inFlight.delete(run))
    if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight)
  }
  await Promise.all(inFlight)
}

/**
 * Writes whole chains into `kernel`'s repo only (see the file's comment).
 * @throws when a chain is not written whole
 */
export async function writeChains(kernel: SimpleKernel, feeds: readonly Feed[]): Promise<void> {
  const chunk = 4096
  await windowed(feeds, async (feed) => {
    for (let i = 0; i < feed.length; i += chunk) {
      const blocks = feed.blocks.slice(i, i + chunk).map((block) => ({ block }))
      const written = await kernel.repo.writeBlocks(blocks, { verified: true })
      if (written !== blocks.length) throw new Error(`wrote ${written} of ${blocks.length} blocks`)
    }
  })
}

/**
 * Dispatches chains into `kernel`'s store, as `addTask` would (see the file's comment).
 * @throws the store's error when a block is refused
 */
export async function dispatchChains(kernel: SimpleKernel, feeds: readonly Feed[]): Promise<void> {
  await windowed(feeds, (feed) => kernel.store.dispatch(feed, { loud: true, verified: true }))
}
