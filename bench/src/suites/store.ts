/**
 * Store throughput beside @telamon/picostore 3.0.4, on memory-level, with the same blocks
 * (picofeed v8 bytes, `[type, payload, date]` CBOR bodies) for both.
 *
 * 1. dispatch: 10,000 single-block patches, each updating one object of a collection that
 *    already holds 10,000 objects (100 authors, 100 objects each, updates round-robin).
 *    picostore rewrites its whole state per block, so it is timed on the first
 *    PICO_PATCHES of the same patches; the figure compared is blocks per second. Its
 *    10,000 objects are loaded the fast way (blocks merged into its repo, state written as
 *    its own state dump), because dispatching them through it takes minutes. Ours also
 *    dispatches the same patches CONCURRENT at a time (awaited together): the store
 *    applies the waiting ones as a group, with one database batch (group commit).
 * 2. gc: 100,000 expired objects forgotten and their blocks evicted (1,000 chains of 100).
 *    The first pass forgets 1,000 of the 100,000 (the oldest block of every chain), timed
 *    beside the same 1,000 expiring in a store that holds only them: cost follows what
 *    expired, not what is held. The second pass forgets the other 99,000. picostore's
 *    prefill is quadratic, so it collects PICO_GC objects; the rate is compared.
 */
import { Feed, signPair } from '@picostack/feed'
import { type ComputeContext, encodeBlock, Memory, Store } from '@picostack/store'
import { Memory as PicoMemory, Store as PicoStore } from '@telamon/picostore'
import { encode as picoEncode } from 'cborg'
import { MemoryLevel } from 'memory-level'
import * as picofeed from 'picofeed'
import { printTable, ratio } from '../measure.ts'

const AUTHORS = 100
const OBJECTS_PER_AUTHOR = 100
const UPDATES = 10_000
const PICO_PATCHES = 50
/** Patches dispatched at once in the concurrent row. */
const CONCURRENT = 64
const GC_OBJECTS = 100_000
const GC_AUTHORS = 1000
const GC_FIRST = 1000
const PICO_GC = 1000
const T0 = 1_700_000_000_000

const memoryDb = () =>
  new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: 'view', valueEncoding: 'view' })

interface Value {
  v: number
  expiresAt: number
}

class Objects extends Memory<Value | undefined> {
  override idOf({ payload }: { payload: { id: string } }) {
    return payload.id
  }
  compute(_: Value | undefined, { payload, date }: ComputeContext<Value | undefined>) {
    return { v: payload.v, expiresAt: date + payload.ttl }
  }
  override expiresAt(value: Value | undefined) {
    return value?.expiresAt ?? 0
  }
}

// biome-ignore lint/suspicious/noExplicitAny: picostore is untyped JavaScript
type Any = any

class PicoObjects extends PicoMemory {
  override async idOf({ payload }: Any) {
    return payload.id
  }
  override async compute(_: Any, { payload, date }: Any) {
    return { v: payload.v, expiresAt: date + payload.ttl }
  }
  override async expiresAt(value: Any) {
    return value.expiresAt
  }
}

interface Workload {
  prefill: Feed[]
  updates: Feed[]
  state: Record<string, Value>
}

/** 100 authors x 100 objects, then 10,000 updates round-robin over the authors. */
function buildDispatchWorkload(): Workload {
  const authors = Array.from({ length: AUTHORS }, () => ({ ...signPair(), feed: new Feed() }))
  const state: Record<string, Value> = {}
  for (const [a, author] of authors.entries()) {
    for (let i = 0; i < OBJECTS_PER_AUTHOR; i++) {
      const id = `o${a}-${i}`
      author.feed.append(encodeBlock('objs', { id, v: 0, ttl: 1e12 }, T0), author.sk)
      state[id] = { v: 0, expiresAt: T0 + 1e12 }
    }
  }
  const prefill = authors.map((a) => a.feed.clone())
  const updates: Feed[] = []
  for (let k = 0; k < UPDATES; k++) {
    const a = k % AUTHORS
    const author = authors[a]!
    const id = `o${a}-${(k * 7) % OBJECTS_PER_AUTHOR}`
    author.feed.append(encodeBlock('objs', { id, v: k + 1, ttl: 1e12 }, T0 + 1), author.sk)
    updates.push(author.feed.slice(-1))
  }
  return { prefill, updates, state }
}

/** The updates dispatched `concurrent` at a time (1: each awaited before the next). */
async function dispatchOurs(w: Workload, concurrent: number): Promise<number> {
  const store = new Store(memoryDb())
  store.register('objs', Objects)
  await store.load()
  for (const feed of w.prefill) await store.dispatch(feed, { loud: true })
  const start = performance.now()
  for (let i = 0; i < w.updates.length; i += concurrent) {
    const window = w.updates.slice(i, i + concurrent)
    await Promise.all(window.map((patch) => store.dispatch(patch, { loud: true })))
  }
  const ms = performance.now() - start
  if (Object.keys(store.state.objs as object).length !== AUTHORS * OBJECTS_PER_AUTHOR) {
    throw new Error('store lost objects')
  }
  await store.close()
  return ms
}

async function dispatchPico(w: Workload): Promise<number> {
  const db = memoryDb()
  const store: Any = new PicoStore(db)
  store.register('objs', PicoObjects)
  for (const feed of w.prefill) await store.repo.merge(picofeed.feedFrom(feed.buffer), () => true)
  const dump = { version: 1, head: w.prefill[0]!.last!.sig, state: w.state }
  await store.repo.writeReg(new TextEncoder().encode('STATES/objs'), picoEncode(dump))
  await store.load()
  const patches = w.updates.slice(0, PICO_PATCHES).map((p) => picofeed.feedFrom(p.buffer))
  const start = performance.now()
  for (const patch of patches) await store.dispatch(patch, true)
  const ms = performance.now() - start
  if (Object.keys(store.roots.objs.state).length !== AUTHORS * OBJECTS_PER_AUTHOR) {
    throw new Error('picostore lost objects')
  }
  return ms
}

/** `objects` objects on `authors` chains; the first `early` expire at T0+1, the rest at T0+2. */
function buildGcFeeds(objects: number, authors: number, early: number): Feed[] {
  const perAuthor = objects / authors
  return Array.from({ length: authors }, (_, a) => {
    const { sk } = signPair()
    const feed = new Feed()
    for (let k = 0; k < perAuthor; k++) {
      const i = k * authors + a // the early ones are spread over every chain
      const ttl = i < early ? 1 : 2
      feed.append(encodeBlock('objs', { id: `g${i}`, v: i, ttl }, T0), sk)
    }
    return feed
  })
}

async function gcOurs(feeds: Feed[]): Promise<{ firstMs: number; restMs: number; held: number }> {
  const store = new Store(memoryDb(), { clock: { ...fixedClock(T0) } })
  store.register('objs', Objects)
  await store.load()
  for (const feed of feeds) await store.dispatch(feed, { loud: true })
  const held = Object.keys(store.state.objs as object).length
  let start = performance.now()
  const first = await store.gc(T0 + 1)
  const firstMs = performance.now() - start
  start = performance.now()
  const rest = await store.gc(T0 + 2)
  const restMs = performance.now() - start
  if (first.expired + rest.expired !== held || (await store.repo.listFeeds()).length !== 0) {
    throw new Error('gc left objects or blocks behind')
  }
  await store.close()
  return { firstMs, restMs, held }
}

async function gcPico(feeds: Feed[]): Promise<number> {
  const store: Any = new PicoStore(memoryDb())
  store.register('objs', PicoObjects)
  await store.load()
  for (const feed of feeds) await store.dispatch(picofeed.feedFrom(feed.buffer), true)
  const start = performance.now()
  await store.gc(T0 + 3) // picostore's timer range misses entries due exactly at `now`
  const ms = performance.now() - start
  if (Object.keys(store.roots.objs.state).length !== 0) throw new Error('picostore kept objects')
  return ms
}

/** A clock frozen at `now` whose timers never fire (the suite calls gc itself). */
function fixedClock(now: number) {
  return { now: () => now, setTimeout: () => 0, clearTimeout: () => undefined }
}

export default async function (): Promise<void> {
  const w = buildDispatchWorkload()
  const oursMs = await dispatchOurs(w, 1)
  const groupedMs = await dispatchOurs(w, CONCURRENT)
  const picoMs = await dispatchPico(w)
  const ours = (UPDATES / oursMs) * 1000
  const pico = (PICO_PATCHES / picoMs) * 1000
  printTable('store: dispatch, single-block patches into a collection of 10,000 objects', [
    { implementation: '@picostack/store', patches: UPDATES, ms: oursMs, 'blocks/s': ours },
    {
      implementation: `@picostack/store, ${CONCURRENT} patches dispatched concurrently`,
      patches: UPDATES,
      ms: groupedMs,
      'blocks/s': (UPDATES / groupedMs) * 1000,
    },
    {
      implementation: '@telamon/picostore 3.0.4',
      patches: PICO_PATCHES,
      ms: picoMs,
      'blocks/s': pico,
    },
  ])
  console.log(`\nratio (blocks/s, ours / picostore): ${ratio(ours, pico)}`)
  console.log(`ratio (ms, one by one / ${CONCURRENT} concurrently): ${ratio(oursMs, groupedMs)}`)

  // Cost follows what expired: 1,000 expiring among 1,000 held, then among 100,000 held
  // (same chains, one block evicted from each of 1,000 chains in both).
  const small = await gcOurs(buildGcFeeds(GC_AUTHORS, GC_AUTHORS, GC_FIRST))
  const ourGc = await gcOurs(buildGcFeeds(GC_OBJECTS, GC_AUTHORS, GC_FIRST))
  const picoGcMs = await gcPico(buildGcFeeds(PICO_GC, 10, 0))
  const restRate = ((ourGc.held - GC_FIRST) / ourGc.restMs) * 1000
  const picoRate = (PICO_GC / picoGcMs) * 1000
  const row = (implementation: string, held: number, expired: number, ms: number) => ({
    implementation,
    held,
    expired,
    ms,
    'objects/s': (expired / ms) * 1000,
  })
  printTable('store: gc (forget expired objects, evict their blocks)', [
    row('@picostack/store', small.held, GC_FIRST, small.firstMs),
    row('@picostack/store', ourGc.held, GC_FIRST, ourGc.firstMs),
    row('@picostack/store', ourGc.held - GC_FIRST, ourGc.held - GC_FIRST, ourGc.restMs),
    row('@telamon/picostore 3.0.4', PICO_GC, PICO_GC, picoGcMs),
  ])
  console.log(
    `\nratio (gc objects/s, ours on 99,000 / picostore on ${PICO_GC}): ${ratio(restRate, picoRate)}`,
  )
  console.log(
    `gc time for 1,000 expired objects, 100,000 held vs 1,000 held: ${ratio(ourGc.firstMs, small.firstMs)} (1.00x = cost follows what expired, not what is held)`,
  )
}
