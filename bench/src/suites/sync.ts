/**
 * What a sync costs for what changed (issue 14), measured on the bytes the protocol puts
 * on the wire: every connection below is two kernels' wires joined by a counting byte link
 * (`bench/src/sync/metered-link.ts`: frameWire from @picostack/net on both ends, frames
 * handed over on the next event-loop turn, so the count is what a socket would carry,
 * frame headers included). The kernels are the to-do app's (`TodoKernel`, tasks on disk,
 * `snapshot: false`; `bench/src/sync/kernels.ts`) except in case 3, the blocks to-do tasks (`bench/src/sync/tasks.ts`: one chain per
 * task, 16 authors; the peers' holdings written straight into their repos, the blocks a
 * session moves applied by the receiver's store in full).
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
 *    store (no sync). Target: rate(N chains) >= 0.8x rate(one chain).
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
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type Feed,
  type KernelOptions,
  MessageType,
  PROTOCOL_VERSION,
  signPair,
} from '@picostack/kernel'
import { printTable } from '../measure.ts'
import { BenchCounter, type BenchKernel, BenchTodo, type TodoBenchKernel } from '../sync/kernels.ts'
import { randomMesh } from '../sync/mesh.ts'
import { type MeteredLink, meteredLink, quiet } from '../sync/metered-link.ts'
import { formatBytes, formatMs, formatRatio, type Verdict, verdict } from '../sync/report.ts'
import {
  blockBytes,
  dispatchChains,
  longTask,
  tasks,
  title,
  withStatus,
  writeChains,
} from '../sync/tasks.ts'
import { v1SummaryBytes } from '../sync/v1-summary.ts'

const N = Number(process.env.SYNC_BENCH_CHAINS ?? 100_000)
const ONLY_A = Math.round(N / 20)
const ONLY_B = Math.round((3 * N) / 100)
const NEWER_HEAD = Math.round(N / 50)
const SHARED = N - ONLY_A - ONLY_B
/** Blocks of the store-only rows (the rate of a store barely depends on what it holds). */
const STORE_ONLY_BLOCKS = Math.min(N, 10_000)
const MESH_PEERS = 20
const MESH_SEED = 14
const MESH_TASKS = 200
/**
 * A session counts as done when its link has carried nothing for this long (ms); its
 * time is the time of its last frame, so a longer wait changes no figure, it only catches
 * a side that is still working (listing 100,000 chains from disk can pause the traffic).
 */
const QUIET_MS = 1000
/** The first connection of the reconnect case (both sides list their repos): ms. */
const FIRST_QUIET_MS = 5000

const TARGET_RECONNECT_BYTES = 8_000
const TARGET_RECONNECT_MS = 100
const TARGET_DIFF_RATIO = 1.2
const TARGET_RATE_RATIO = 0.8
const TARGET_MESH_AVG = 2

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

const typeNames = new Map<number, string>(
  Object.entries(MessageType as Record<string, number>).map(([name, n]) => [n, name]),
)
typeNames.set(-1, 'error/close')

const n = (x: number) => x.toLocaleString('en-US')

const benchStart = performance.now()
/** A progress line: seconds since the suite started, and what just finished. */
function progress(what: string): void {
  console.log(`[+${((performance.now() - benchStart) / 1000).toFixed(0)} s] ${what}`)
}

/** Kernels and links not closed yet: closed when a case fails, described when a step times out. */
const openKernels = new Set<BenchKernel>()
const openLinks = new Set<MeteredLink>()

/** A kernel of its own identity (copied folders hold the copied secret: replaced here). */
function kernel(db?: string): TodoBenchKernel {
  const k = new BenchTodo(db, { secret: signPair().sk, limits })
  openKernels.add(k)
  return k
}

/** The fresh-peer case's kernel (in memory), see freshPeer. */
function counter(): BenchKernel {
  const k = new BenchCounter(undefined, { secret: signPair().sk, limits })
  openKernels.add(k)
  return k
}

async function boot(...kernels: BenchKernel[]): Promise<void> {
  await Promise.all(kernels.map((k) => k.boot()))
}

async function close(...kernels: BenchKernel[]): Promise<void> {
  for (const k of kernels) openKernels.delete(k)
  await Promise.all(kernels.map((k) => k.close()))
}

/** Joins two kernels through a counting link (see metered-link.ts). */
function connect(a: BenchKernel, b: BenchKernel, onframe?: Parameters<typeof meteredLink>[2]) {
  const link = meteredLink(a.spawnWire(), b.spawnWire(), onframe)
  openLinks.add(link)
  return link
}

/** What the open kernels and links are doing (for a timed-out step). */
function state(): string {
  const kernels = [...openKernels].map(
    (k, i) =>
      `kernel ${i}: ${k.mergedCount()} merged, ${k.peers.length} peers` +
      k.peers
        .flatMap((p) => p.stats.errors.map((e) => `, peer sent ${e.code}: ${e.reason}`))
        .join('') +
      (k.failures.length ? `, sessions ended: ${k.failures.slice(-4).join('; ')}` : ''),
  )
  const now = performance.now()
  const links = [...openLinks].map(
    (l, i) =>
      `link ${i}: ${formatBytes(l.totalBytes())} (${byType(l)}), last frame ${formatMs(now - l.lastFrameAt())} ago`,
  )
  return [...kernels.slice(0, 6), ...links.slice(0, 6)].join(' | ')
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + STEP_TIMEOUT_MS
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out: ${what} (${state()})`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/**
 * `promise`, or an error after STEP_TIMEOUT_MS saying what was awaited and what the
 * kernels and links were doing (a timer keeps the process alive meanwhile).
 */
async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what} (${state()})`)), STEP_TIMEOUT_MS)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Closes `link` and waits until neither kernel lists a peer. */
async function disconnect(link: MeteredLink, ...kernels: BenchKernel[]): Promise<void> {
  openLinks.delete(link)
  link.close()
  await until(() => kernels.every((k) => k.peers.length === 0), 'sessions to close')
}

/** Bytes per message type, both ways, as `name: bytes` text. */
function byType(link: MeteredLink): string {
  const totals = new Map<number, number>()
  for (const d of link.directions) {
    for (const [type, bytes] of d.bytesByType) totals.set(type, (totals.get(type) ?? 0) + bytes)
  }
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .map(([type, bytes]) => `${typeNames.get(type) ?? type}: ${formatBytes(bytes)}`)
    .join(', ')
}

/** A folder for a classic-level database, removed at exit. */
const dirs: string[] = []
function tmpDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bench-sync-'))
  dirs.push(dir)
  return dir
}

/** Everything the cases share: the chains, and (once asked for) a folder holding the shared ones. */
interface Fixture {
  shared: Feed[]
  /** Shared chains whose tasks the store knows (dispatched): the ones that get a newer head. */
  known: Feed[]
  onlyA: Feed[]
  onlyB: Feed[]
  /** The classic-level folder of the shared chains, built by the first case that needs it. */
  baseDir?: string
}

function fixture(): Fixture {
  const started = performance.now()
  const all = tasks(0, N)
  console.log(`\nfixture: ${n(N)} tasks signed in ${formatMs(performance.now() - started)}`)
  return {
    known: all.slice(0, NEWER_HEAD),
    shared: all.slice(NEWER_HEAD, SHARED),
    onlyA: all.slice(SHARED, SHARED + ONLY_A),
    onlyB: all.slice(SHARED + ONLY_A),
  }
}

async function baseDir(fx: Fixture): Promise<string> {
  if (fx.baseDir) return fx.baseDir
  const started = performance.now()
  const dir = tmpDir()
  const base = kernel(dir)
  await base.boot()
  await writeChains(base, fx.shared)
  await dispatchChains(base, fx.known)
  await close(base)
  console.log(
    `${n(SHARED)} shared chains on disk (${n(fx.shared.length)} by repo.writeBlocks, ` +
      `${n(fx.known.length)} by store.dispatch) in ${formatMs(performance.now() - started)}`,
  )
  fx.baseDir = dir
  return dir
}

/** Two kernels on copies of the fixture's folder. */
async function pairFrom(fx: Fixture): Promise<[TodoBenchKernel, TodoBenchKernel]> {
  const base = await baseDir(fx)
  const [dirA, dirB] = [tmpDir(), tmpDir()]
  cpSync(base, dirA, { recursive: true })
  cpSync(base, dirB, { recursive: true })
  const pair: [TodoBenchKernel, TodoBenchKernel] = [kernel(dirA), kernel(dirB)]
  await boot(...pair)
  return pair
}

async function reconnect(fx: Fixture): Promise<Verdict[]> {
  const [a, b] = await pairFrom(fx)
  await Promise.all([a, b].map((k) => writeChains(k, [...fx.onlyA, ...fx.onlyB])))
  const v1Bytes = (await v1SummaryBytes(a.repo)) + (await v1SummaryBytes(b.repo))

  // The first connection: nothing differs.
  let start = performance.now()
  let link = connect(a, b)
  await quiet([link], { quietMs: FIRST_QUIET_MS })
  const first = { bytes: link.totalBytes(), ms: link.lastFrameAt() - start, types: byType(link) }
  await disconnect(link, a, b)

  await a.addTask(title(N, ` (added at ${new Date().toISOString()})`))
  const held = b.counted(1)
  start = performance.now()
  link = connect(a, b)
  await within(held, 'reconnect: the new block')
  const heldMs = performance.now() - start
  await quiet([link], { quietMs: QUIET_MS })
  const again = { bytes: link.totalBytes(), ms: link.lastFrameAt() - start, types: byType(link) }
  await disconnect(link, a, b)
  await close(a, b)

  printTable(
    `reconnect: both peers hold the same ${n(N)} one-block chains (classic-level), protocol v${PROTOCOL_VERSION}`,
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

async function differences(fx: Fixture): Promise<Verdict[]> {
  const [a, b] = await pairFrom(fx)
  const newer = fx.known.map((feed, i) => withStatus(feed, i))
  await writeChains(a, fx.onlyA)
  await dispatchChains(a, newer)
  await writeChains(b, fx.onlyB)
  const statusBlocks = newer.map((feed) => feed.slice(1))
  const toB = blockBytes(fx.onlyA) + blockBytes(statusBlocks)
  const toA = blockBytes(fx.onlyB)
  const blocksMoved = fx.onlyA.length + statusBlocks.length + fx.onlyB.length

  const done = Promise.all([
    b.counted(fx.onlyA.length + statusBlocks.length),
    a.counted(fx.onlyB.length),
  ])
  const start = performance.now()
  const link = connect(a, b)
  await within(done, 'differences: every block')
  const heldMs = performance.now() - start
  await quiet([link], { quietMs: QUIET_MS })
  const ms = link.lastFrameAt() - start
  const wire = link.totalBytes()
  await disconnect(link, a, b)
  await close(a, b)

  const ratio = wire / (toA + toB)
  printTable(
    `differences: ${n(ONLY_A + ONLY_B + NEWER_HEAD)} of ${n(N)} chains differ (classic-level), protocol v${PROTOCOL_VERSION}`,
    [
      {
        'chains only A holds': n(ONLY_A),
        'only B holds': n(ONLY_B),
        'A has a newer head': n(NEWER_HEAD),
        'blocks moved': n(blocksMoved),
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
      `${n(ONLY_A + ONLY_B + NEWER_HEAD)} differences among ${n(N)}: wire / block bytes`,
      ratio,
      'at most',
      TARGET_DIFF_RATIO,
      formatRatio,
    ),
  ]
}

/** Blocks per second of a fresh peer syncing `feeds` from a peer holding them (memory-level). */
async function freshSync(feeds: Feed[], blocks: number): Promise<{ ms: number; wire: number }> {
  const sender = counter()
  const receiver = counter()
  await boot(sender, receiver)
  await writeChains(sender, feeds)
  const done = receiver.counted(blocks)
  const start = performance.now()
  const link = connect(sender, receiver)
  await within(done, `fresh peer: ${n(blocks)} blocks`)
  const ms = performance.now() - start
  const wire = link.totalBytes()
  await disconnect(link, sender, receiver)
  await close(sender, receiver)
  return { ms, wire }
}

/**
 * Blocks per second of the first {@link STORE_ONLY_BLOCKS} of the same blocks dispatched
 * straight into a fresh store, in patch-sized runs (no sync): the receiver's floor.
 */
async function storeOnly(all: Feed[]): Promise<number> {
  const feeds: Feed[] = []
  for (let left = STORE_ONLY_BLOCKS, i = 0; left > 0 && i < all.length; i++) {
    feeds.push(all[i]!.slice(0, left))
    left -= feeds[feeds.length - 1]!.length
  }
  const k = counter()
  await k.boot()
  const patches = feeds.flatMap((feed) => {
    const runs: Feed[] = []
    for (let i = 0; i < feed.length; i += 1024) runs.push(feed.slice(i, i + 1024))
    return runs
  })
  const start = performance.now()
  await dispatchChains(k, patches)
  const ms = performance.now() - start
  await k.close()
  return (STORE_ONLY_BLOCKS / ms) * 1000
}

async function freshPeer(fx: Fixture): Promise<Verdict[]> {
  const many = [...fx.known, ...fx.shared, ...fx.onlyA, ...fx.onlyB]
  const one = [longTask(N)]
  const warm = many.slice(0, 2000)
  await freshSync(warm, warm.length) // warm-up (JIT), untimed
  const rows = []
  const rates: number[] = []
  for (const [name, feeds] of [
    [`${n(N)} one-block chains`, many],
    [`one chain of ${n(N)} blocks`, one],
  ] as const) {
    const sync = await freshSync(feeds, N)
    progress(`fresh peer: ${name} synced`)
    const storeRate = await storeOnly(feeds)
    const rate = (N / sync.ms) * 1000
    rates.push(rate)
    rows.push({
      run: name,
      'sync ms': sync.ms,
      'blocks/s': rate,
      'wire / block bytes': formatRatio(sync.wire / blockBytes(feeds)),
      [`store only blocks/s (first ${n(STORE_ONLY_BLOCKS)})`]: storeRate,
      'sync / store only': formatRatio(rate / storeRate),
    })
  }
  printTable(
    `fresh peer syncs ${n(N)} blocks (memory-level, counting kernel), protocol v${PROTOCOL_VERSION}`,
    rows,
  )
  return [
    verdict(
      `fresh peer: rate of ${n(N)} chains / rate of one ${n(N)}-block chain`,
      rates[0]! / rates[1]!,
      'at least',
      TARGET_RATE_RATIO,
      formatRatio,
    ),
  ]
}

async function mesh(fx: Fixture): Promise<Verdict[]> {
  const edges = randomMesh(MESH_PEERS, 3, 5, MESH_SEED)
  const peers = Array.from({ length: MESH_PEERS }, () => kernel())
  await boot(...peers)
  const seed = fx.shared.slice(0, MESH_TASKS)
  await Promise.all(peers.map((p) => writeChains(p, seed)))
  const degree = peers.map(() => 0)
  for (const [x, y] of edges) {
    degree[x]!++
    degree[y]!++
  }

  const newTitle = title(N + 1, ` (mesh ${Math.random().toString(16).slice(2)})`)
  const token = Buffer.from(newTitle)
  const received = peers.map(() => 0)
  const links = edges.map(([x, y]) =>
    connect(peers[x]!, peers[y]!, (frame) => {
      if (
        Buffer.from(frame.payload.buffer, frame.payload.byteOffset, frame.payload.length).indexOf(
          token,
        ) < 0
      )
        return
      received[frame.from === 0 ? y : x]!++
    }),
  )
  await until(() => peers.every((p, i) => p.peers.length === degree[i]), 'mesh sessions')
  await quiet(links, { quietMs: QUIET_MS })
  const before = links.reduce((sum, l) => sum + l.totalBytes(), 0)

  const origin = 0
  const held = Promise.all(peers.map((p, i) => (i === origin ? undefined : p.counted(1))))
  const start = performance.now()
  await peers[origin]!.addTask(newTitle)
  await within(held, 'mesh: the new block at every peer')
  const allMs = performance.now() - start
  await quiet(links, { quietMs: QUIET_MS })
  const wire = links.reduce((sum, l) => sum + l.totalBytes(), 0) - before
  for (const link of links) {
    openLinks.delete(link)
    link.close()
  }
  await close(...peers)

  const others = received.filter((_, i) => i !== origin)
  const average = others.reduce((a, b) => a + b, 0) / others.length
  printTable(
    `mesh: ${MESH_PEERS} peers, ${edges.length} links (seeded random graph, degree 3-5, seed ${MESH_SEED}, memory-level), one new block, protocol v${PROTOCOL_VERSION}`,
    peers.map((_, i) => ({
      peer: i === origin ? `${i} (origin)` : String(i),
      links: degree[i]!,
      'times it received the block': received[i]!,
    })),
  )
  console.log(
    `reached all ${MESH_PEERS} in ${formatMs(allMs)}; ${formatBytes(wire)} on all links for it; ` +
      `received per peer (the ${others.length} others): average ${average.toFixed(2)}, max ${Math.max(...others)}`,
  )
  return [
    verdict(
      `mesh of ${MESH_PEERS}: times each peer received the new block (average)`,
      average,
      'at most',
      TARGET_MESH_AVG,
      (x) => x.toFixed(2),
    ),
  ]
}

const CASES: Record<string, (fx: Fixture) => Promise<Verdict[]>> = {
  reconnect,
  differences,
  fresh: freshPeer,
  mesh,
}
/** `SYNC_BENCH_CASES=fresh,mesh` runs only those (default: every case). */
const WANTED = (process.env.SYNC_BENCH_CASES ?? Object.keys(CASES).join(',')).split(',')

export default async function (): Promise<void> {
  console.log(
    `\nsync bench: N = ${n(N)} chains (SYNC_BENCH_CHAINS), protocol version ${PROTOCOL_VERSION}` +
      (VERSION === 1
        ? ` (maxRemoteChains ${n(V1_LIMITS.maxRemoteChains)}, maxInboxBytes ${formatBytes(V1_LIMITS.maxInboxBytes)}, so version 1 can run)`
        : ''),
  )
  const load = () =>
    loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')
  console.log(`load average at start: ${load()} (2 cores shared: times are noisy, bytes are not)`)
  try {
    const fx = fixture()
    const verdicts: Verdict[] = []
    for (const [name, run] of Object.entries(CASES)) {
      if (!WANTED.includes(name)) continue
      try {
        verdicts.push(...(await run(fx)))
        progress(`${name} done`)
      } catch (err) {
        // A case that fails (a sync that stalls, a session refused) is reported, not fatal.
        const message = err instanceof Error ? err.message : String(err)
        console.log(`\n${name} FAILED: ${message}`)
        verdicts.push({ case: name, figure: 'failed (see above)', target: '-', result: 'NOT MET' })
        for (const link of openLinks) link.close()
        openLinks.clear()
        await close(...openKernels)
      }
    }
    console.log(`\nload average at end: ${load()}`)
    printTable(
      `sync targets (issue 14), protocol v${PROTOCOL_VERSION}`,
      verdicts.map((v) => ({ ...v })),
    )
  } finally {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  }
}
