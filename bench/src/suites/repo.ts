/**
 * Repo merge throughput: 100,000 blocks (200-byte bodies) merged into a fresh classic-level
 * and a fresh memory-level database, beside the raw batched-put rate of the same database
 * (the block bytes under their ids, in batches of 1024) and beside picorepo 2.2.5 doing the
 * same merge. The feed is built once, outside every timed region.
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
const RAW_BATCH = 1024
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

/** Times `run` once on a fresh database from `open`, then closes it. */
async function timed(
  name: string,
  open: () => Promise<ViewDb>,
  run: (db: ViewDb) => Promise<unknown>,
): Promise<Measurement> {
  const db = await open()
  await db.open()
  const start = performance.now()
  await run(db)
  const ms = performance.now() - start
  await db.close()
  return { name, count: BLOCKS, ms, perSecond: (BLOCKS / ms) * 1000 }
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
  if (written !== BLOCKS) throw new Error(`repo wrote ${written} blocks`)
}

async function mergePicorepo(db: ViewDb, feed: picofeed.Feed): Promise<void> {
  // biome-ignore lint/suspicious/noExplicitAny: picorepo types name its own abstract-level copy
  const written = await new PicoRepo(db as any).merge(feed, () => false)
  if (written !== BLOCKS) throw new Error(`picorepo wrote ${written} blocks`)
}

export default async function (): Promise<void> {
  const feed = buildFeed()
  // Byte-compatible: picofeed reads our bytes (signatures were checked when they were made).
  const theirs = picofeed.feedFrom(feed.buffer.slice(), true)
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
      const raw = await timed(`${backend}: raw batched put`, open, (db) => rawBatchedPut(db, feed))
      const ours = await timed(`${backend}: @picostack/repo merge`, open, (db) =>
        mergeOurs(db, feed),
      )
      const pico = await timed(`${backend}: picorepo 2.2.5 merge`, open, (db) =>
        mergePicorepo(db, theirs),
      )
      printTable(
        `repo merge of ${BLOCKS.toLocaleString('en-US')} blocks (${BODY_BYTES} B bodies), ${backend}`,
        [
          ...[raw, ours, pico].map((m) => ({
            what: m.name,
            'blocks/s': m.perSecond,
            ms: m.ms,
          })),
        ],
      )
      console.log(
        `\n${backend}: repo merge / raw batched put = ${ratio(ours.perSecond, raw.perSecond)} (target >= 0.50x)`,
      )
      console.log(
        `${backend}: repo merge / picorepo merge = ${ratio(ours.perSecond, pico.perSecond)}`,
      )
    }
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}
