/**
 * Repo merge throughput: 100,000 blocks (200-byte bodies) merged into a fresh classic-level
 * and a fresh memory-level database, beside the raw batched-put rate of the same database
 * (a copy of each block's bytes under `0x01 | id`, in batches of 1024 blocks like the repo's
 * merge) and beside picorepo 2.2.5 doing the same merge. The feed is built once, outside
 * every timed region. After an untimed warmup of all three on 10,000 blocks, raw put and merge
 * run alternately ROUNDS times, each on a fresh database; the median of each is reported,
 * with its CPU time (steadier than wall clock on a shared machine).
 */
import { mkdtempSync, rmSync } from 'node:fs'
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

export default async function (): Promise<void> {
  const feed = buildFeed()
  const warmup = feed.slice(0, WARMUP_BLOCKS)
  // Byte-compatible: picofeed reads our bytes (signatures were checked when they were made).
  const theirs = picofeed.feedFrom(feed.buffer.slice(), true)
  const theirsWarmup = picofeed.feedFrom(warmup.buffer.slice(), true)
  const root = mkdtempSync(join(tmpdir(), 'picostack-bench-repo-'))
  let dirs = 0
  const classic = async () =>
    new ClassicLevel<Uint8Array, Uint8Array>(join(root, String(dirs++)), VIEW)
  const memory = async () => new MemoryLevel<Uint8Array, Uint8Array>(VIEW)
  try {
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
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}
