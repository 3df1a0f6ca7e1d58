/**
 * Repo merge throughput: 100,000 blocks (200-byte bodies) merged into a fresh classic-level
 * and a fresh memory-level database, beside the raw batched-put rate of the same database
 * (a copy of each block's bytes under `0x01 | id`, in batches of 1024 blocks like the repo's
 * merge) and beside picorepo 2.2.5 doing the same merge. The feed is built once, outside
 * every timed region. After an untimed warmup of all three on 10,000 blocks, raw put and merge
 * run alternately ROUNDS times, each on a fresh database; the median of each is reported,
 * with its CPU time (steadier than wall clock on a shared machine).
 *
 * Then the to-do app's shape: 20,000 one-block chains (a genesis with a 200-byte body
 * each), written one awaited `writeBlocks` at a time into classic-level, beside one awaited
 * raw put of the same bytes at a time; with the bytes on disk per chain after the writes and
 * after a full compaction, beside the raw block bytes. `BENCH_REPO=chains` runs only this part.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Feed, signPair } from '@picostack/feed'
import { type LevelDatabase, Repo } from '@picostack/repo'
import { ClassicLevel } from 'classic-level'
import { MemoryLevel } from 'memory-level'
import * as picofeed from 'picofeed'
import { Repo as PicoRepo } from 'picorepo'
import { type Measurement, printTable, ratio } from '../measure.ts'

const BLOCKS = 100_000
const BODY_BYTES = 200
/** Blocks per raw batch: the repo's merge batch size. */
const RAW_BATCH = 1024
const WARMUP_BLOCKS = 10_000
const ROUNDS = 3
const VIEW = { keyEncoding: 'view', valueEncoding: 'view' } as const

/** A database opened with view encodings (both backends fit). */
type ViewDb = LevelDatabase & { open(): Promise<void> }

function buildFeed(): Feed {
  const { sk } = signPair()
  const feed = new Feed({ limits: { maxFeedBytes: 256 * 1024 * 1024 } })
  const body = new Uint8Array(BODY_BYTES).fill(0x61)
  for (let i = 0; i < BLOCKS; i++) {
    body.set(new TextEncoder().encode(String(i)))
    feed.append(body, sk)
  }
  return feed
}

/**
 * Wall-clock and CPU milliseconds (user + system, every thread of the process, so
 * LevelDB's background work counts) of one timed run.
 */
interface Timing {
  ms: number
  cpuMs: number
}

/** Times `run` on a fresh database from `open` (closed afterwards). */
async function timed(
  open: () => Promise<ViewDb>,
  run: (db: ViewDb) => Promise<unknown>,
): Promise<Timing> {
  const db = await open()
  await db.open()
  const cpu = process.cpuUsage()
  const start = performance.now()
  await run(db)
  const ms = performance.now() - start
  const { user, system } = process.cpuUsage(cpu)
  await db.close()
  return { ms, cpuMs: (user + system) / 1000 }
}

/** The median run by wall clock, with its CPU time. */
function measurement(name: string, runs: Timing[]): Measurement & { cpuMs: number } {
  const { ms, cpuMs } = [...runs].sort((a, b) => a.ms - b.ms)[runs.length >> 1]!
  return { name, count: BLOCKS, ms, perSecond: (BLOCKS / ms) * 1000, cpuMs }
}

async function rawBatchedPut(db: ViewDb, feed: Feed): Promise<void> {
  const blocks = feed.blocks
  for (let at = 0; at < blocks.length; at += RAW_BATCH) {
    const ops = blocks.slice(at, at + RAW_BATCH).map((b) => {
      const key = new Uint8Array(65)
      key[0] = 1
      key.set(b.sig, 1)
      return { type: 'put' as const, key, value: b.buffer.slice() }
    })
    await db.batch(ops, VIEW)
  }
}

async function mergeOurs(db: ViewDb, feed: Feed): Promise<void> {
  const written = await new Repo(db).merge(feed)
  if (written !== feed.length) throw new Error(`repo wrote ${written} blocks`)
}

async function mergePicorepo(db: ViewDb, feed: picofeed.Feed): Promise<void> {
  // biome-ignore lint/suspicious/noExplicitAny: picorepo types name its own abstract-level copy
  const written = await new PicoRepo(db as any).merge(feed, () => false)
  if (written !== feed.length) throw new Error(`picorepo wrote ${written} blocks`)
}

const CHAINS = 20_000

/** Bytes of every file in `dir`. */
function dirBytes(dir: string): number {
  let bytes = 0
  for (const name of readdirSync(dir)) bytes += statSync(join(dir, name)).size
  return bytes
}

/** One-block chains, one awaited write each: chains/s and bytes on disk per chain. */
async function oneBlockChains(root: string): Promise<void> {
  const { sk } = signPair()
  const body = new Uint8Array(BODY_BYTES).fill(0x74)
  const blocks = Array.from({ length: CHAINS }, (_, i) => {
    body.set(new TextEncoder().encode(String(i)))
    const feed = new Feed()
    feed.append(body, sk)
    return feed.first!
  })
  const rawBytes = blocks.reduce((n, b) => n + b.blockSize, 0)
  let dirs = 0
  const run = async (write: (db: ViewDb, i: number) => Promise<unknown>) => {
    const dir = join(root, `chains-${dirs++}`)
    const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, VIEW)
    await db.open()
    const cpu = process.cpuUsage()
    const start = performance.now()
    for (let i = 0; i < CHAINS; i++) await write(db, i)
    const ms = performance.now() - start
    const { user, system } = process.cpuUsage(cpu)
    await db.close()
    const written = dirBytes(dir)
    const compacted = new ClassicLevel<Uint8Array, Uint8Array>(dir, VIEW)
    await compacted.open()
    await compacted.compactRange(Uint8Array.of(0), Uint8Array.of(0xff), VIEW)
    await compacted.close()
    return { ms, cpuMs: (user + system) / 1000, written, compacted: dirBytes(dir) }
  }
  const raw = async (db: ViewDb, i: number) => {
    const block = blocks[i]!
    const key = new Uint8Array(65)
    key[0] = 1
    key.set(block.sig, 1)
    await db.batch([{ type: 'put', key, value: block.buffer.slice() }], VIEW)
  }
  const repos = new Map<ViewDb, Repo>()
  const ours = async (db: ViewDb, i: number) => {
    let repo = repos.get(db)
    if (!repo) repos.set(db, (repo = new Repo(db)))
    if ((await repo.writeBlocks([{ block: blocks[i]! }], { verified: true })) !== 1) {
      throw new Error('repo refused a genesis')
    }
  }
  await run(ours) // warmup
  const rawRun = await run(raw)
  const ourRun = await run(ours)
  const row = (what: string, r: typeof rawRun) => ({
    what,
    'chains/s': (CHAINS / r.ms) * 1000,
    ms: r.ms,
    'cpu ms': r.cpuMs,
    'disk B/chain': r.written / CHAINS,
    'compacted B/chain': r.compacted / CHAINS,
  })
  printTable(
    `${CHAINS.toLocaleString('en-US')} one-block chains (${BODY_BYTES} B bodies, ${Math.round(rawBytes / CHAINS)} B blocks), one awaited write each, classic-level`,
    [row('raw put of the block', rawRun), row('@picostack/repo writeBlocks', ourRun)],
  )
  console.log(
    `\none-block chains: repo / raw put = ${ratio(rawRun.ms, ourRun.ms)}; compacted disk / raw block bytes = ${ratio(ourRun.compacted, rawBytes)}`,
  )
}

/** The 100,000-block merge on both backends. */
async function merges(root: string): Promise<void> {
  const feed = buildFeed()
  const warmup = feed.slice(0, WARMUP_BLOCKS)
  // Byte-compatible: picofeed reads our bytes (signatures were checked when they were made).
  const theirs = picofeed.feedFrom(feed.buffer.slice(), true)
  const theirsWarmup = picofeed.feedFrom(warmup.buffer.slice(), true)
  let dirs = 0
  const classic = async () =>
    new ClassicLevel<Uint8Array, Uint8Array>(join(root, String(dirs++)), VIEW)
  const memory = async () => new MemoryLevel<Uint8Array, Uint8Array>(VIEW)
  for (const [backend, open] of [
    ['classic-level', classic],
    ['memory-level', memory],
  ] as const) {
    await timed(open, (db) => rawBatchedPut(db, warmup))
    await timed(open, (db) => mergeOurs(db, warmup))
    await timed(open, (db) => mergePicorepo(db, theirsWarmup))
    const rawRuns: Timing[] = []
    const ourRuns: Timing[] = []
    for (let round = 0; round < ROUNDS; round++) {
      rawRuns.push(await timed(open, (db) => rawBatchedPut(db, feed)))
      ourRuns.push(await timed(open, (db) => mergeOurs(db, feed)))
    }
    const raw = measurement(`${backend}: raw batched put`, rawRuns)
    const ours = measurement(`${backend}: @picostack/repo merge`, ourRuns)
    const pico = measurement(`${backend}: picorepo 2.2.5 merge`, [
      await timed(open, (db) => mergePicorepo(db, theirs)),
    ])
    printTable(
      `repo merge of ${BLOCKS.toLocaleString('en-US')} blocks (${BODY_BYTES} B bodies), ${backend}, median of ${ROUNDS} (picorepo: 1 run)`,
      [
        ...[raw, ours, pico].map((m) => ({
          what: m.name,
          'blocks/s': m.perSecond,
          ms: m.ms,
          'cpu ms': m.cpuMs,
        })),
      ],
    )
    console.log(
      `\n${backend}: repo merge / raw batched put = ${ratio(ours.perSecond, raw.perSecond)} (target >= 0.50x); by CPU time ${ratio(raw.cpuMs, ours.cpuMs)}`,
    )
    console.log(
      `${backend}: repo merge / picorepo merge = ${ratio(ours.perSecond, pico.perSecond)}`,
    )
  }
}

export default async function (): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'picostack-bench-repo-'))
  try {
    if (process.env.BENCH_REPO !== 'chains') await merges(root)
    await oneBlockChains(root)
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}
