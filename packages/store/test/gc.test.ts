import { toHex } from '@picostack/feed'
import { Repo } from '@picostack/repo'
import { describe, expect, it } from 'vitest'
// The repo's batch spy, shared rather than copied.
import { spyBatches, spyReads } from '../../repo/test/db-spy.ts'
import { Store, type StoreError } from '../src/index.ts'
import { Author, FakeClock, heldIds, memoryDb } from './helpers.ts'
import { type ExpiringNote, ExpiringNotes } from './notes.ts'

function open(repo: Repo, clock: FakeClock) {
  const store = new Store(repo, { clock })
  const notes = store.register('notes', ExpiringNotes)
  store.register<number[]>({
    name: 'pings',
    initialValue: [],
    filter: ({ type }) => type !== 'ping',
    reducer: ({ state, payload }) => [...state, payload.n],
    expiresAt: ({ date, payload }) => date + payload.ttl,
  })
  return { store, notes }
}

const T0 = 1_000_000
const [t1, t2, t3] = [T0 + 1000, T0 + 2000, T0 + 3000]

describe('forgetting on the store timer', () => {
  it('forgets at t1 < t2 < t3, evicts the blocks, survives restarts, catches up on load', async () => {
    const db = memoryDb()
    const clock = new FakeClock(T0)
    let { store, notes } = open(new Repo(db), clock)
    await store.load()
    const sizes: number[] = []
    store.on<Record<string, ExpiringNote>>('notes', (state) =>
      sizes.push(Object.keys(state).length),
    )
    const pings: number[][] = []
    store.on<number[]>('pings', (state) => pings.push(state))

    const authors = [new Author(), new Author(), new Author()]
    const patches = [
      authors[0]!.append('notes', { id: 'n1', text: 'one', ttl: t1 - T0 }, T0),
      authors[1]!.append('notes', { id: 'n2', text: 'two', ttl: t2 - T0 }, T0),
      authors[2]!.append('notes', { id: 'n3', text: 'three', ttl: t3 - T0 }, T0),
      authors[0]!.append('ping', { n: 1, ttl: t1 - T0 }, T0),
      authors[2]!.append('ping', { n: 3, ttl: t3 - T0 }, T0),
    ]
    for (const patch of patches) await store.dispatch(patch, { loud: true })
    const ids = patches.map((p) => toHex(p.first!.sig))
    expect(Object.keys(notes.state).sort()).toEqual(['n1', 'n2', 'n3'])
    expect(store.state.pings).toEqual([1, 3])
    expect(await heldIds(store)).toEqual([...ids].sort())

    await clock.advanceTo(t1 - 1, store)
    expect(Object.keys(notes.state).sort()).toEqual(['n1', 'n2', 'n3'])

    await clock.advanceTo(t1, store) // the store's own timer fires; nobody calls gc()
    expect(Object.keys(notes.state).sort()).toEqual(['n2', 'n3'])
    expect(store.state.pings).toEqual([3])
    // author 0's chain (note n1, ping 1) backs nothing now: both blocks left the repo
    expect(await heldIds(store)).toEqual([ids[1]!, ids[2]!, ids[4]!].sort())
    expect(sizes.at(-1)).toBe(2)
    expect(pings.at(-1)).toEqual([3])

    await clock.advanceTo(t2, store)
    expect(Object.keys(notes.state)).toEqual(['n3'])
    expect(await heldIds(store)).toEqual([ids[2]!, ids[4]!].sort())
    expect(sizes).toEqual([0, 1, 2, 3, 2, 1])
    await store.close()

    // Closed across t3; the next load fires the persisted timer at once.
    clock.time = t3 + 500
    ;({ store, notes } = open(new Repo(db), clock))
    await store.load()
    expect({ ...notes.state }).toEqual({})
    expect(store.state.pings).toEqual([])
    expect(await heldIds(store)).toEqual([])
    await store.close()

    // After another restart they stay gone, and re-sending an expired block is refused.
    ;({ store, notes } = open(new Repo(db), clock))
    await store.load()
    expect({ ...notes.state }).toEqual({})
    const err = (await store.dispatch(patches[0]!, { loud: true }).catch((e) => e)) as StoreError
    expect(err.code).toBe('STORE_EXPIRED')
    expect(await store.dispatch(patches[1]!)).toBeUndefined()
    expect({ ...notes.state }).toEqual({})
    expect(await heldIds(store)).toEqual([])
    await store.close()
    await db.close()
  })

  it('a timer due while closed, with the store restarted before it, is armed from the registry', async () => {
    const db = memoryDb()
    const clock = new FakeClock(T0)
    let { store, notes } = open(new Repo(db), clock)
    await store.load()
    await store.dispatch(new Author().append('notes', { id: 'x', text: 'x', ttl: 500 }, T0))
    await store.close()
    ;({ store, notes } = open(new Repo(db), clock))
    await store.load()
    expect(Object.keys(notes.state)).toEqual(['x'])
    expect(clock.pending).toBe(1)
    await clock.advanceTo(T0 + 500, store)
    expect(Object.keys(notes.state)).toEqual([])
    expect(await heldIds(store)).toEqual([])
    await store.close()
  })

  it('an expired block in the middle of a chain leaves the disk only with what is older', async () => {
    const clock = new FakeClock(T0)
    const { store, notes } = open(new Repo(memoryDb()), clock)
    await store.load()
    const alice = new Author()
    const a = alice.append('notes', { id: 'a', text: 'a', ttl: 3000 }, T0)
    const b = alice.append('notes', { id: 'b', text: 'b', ttl: 1000 }, T0)
    const c = alice.append('notes', { id: 'c', text: 'c', ttl: 2000 }, T0)
    await store.dispatch(alice.feed, { loud: true })
    const [ida, idb, idc] = [a, b, c].map((p) => toHex(p.first!.sig))
    await clock.advanceTo(T0 + 1000, store)
    expect(Object.keys(notes.state).sort()).toEqual(['a', 'c'])
    expect(await heldIds(store)).toEqual([ida, idb, idc].sort()) // b is a link between a and c
    await clock.advanceTo(T0 + 3000, store)
    expect(await heldIds(store)).toEqual([])
    await store.close()
  })

  it('a block whose id starts with 0xff leaves with its object read back from disk', async () => {
    // The object's backing keys end with the block id: a range bound of `prefix | 0xff`
    // missed this one, so the block kept a backing no object had and its chain stayed.
    const clock = new FakeClock(T0)
    const repo = new Repo(memoryDb())
    let { store, notes } = open(repo, clock)
    await store.load()
    const alice = new Author()
    const edge = alice.appendEdge('notes', { id: 'a', text: 'a', ttl: 1000 }, T0)
    alice.append('notes', { id: 'b', text: 'b', ttl: 2000 }, T0)
    await store.dispatch(alice.feed, { loud: true })
    await store.close()
    ;({ store, notes } = open(repo, clock)) // nothing cached: the objects are read from disk
    await store.load()
    await clock.advanceTo(T0 + 1000, store)
    expect(Object.keys(notes.state)).toEqual(['b'])
    expect(await heldIds(store)).toEqual([toHex(alice.feed.block(1)!.sig)])
    expect(edge.first!.sig[0]).toBe(0xff)
    await clock.advanceTo(T0 + 2000, store)
    expect(notes.state).toEqual({})
    expect(await heldIds(store)).toEqual([])
    await store.close()
  })

  it('expired links in a new patch are kept only as long as a later live block needs them', async () => {
    const clock = new FakeClock(T0 + 5000)
    const { store, notes } = open(new Repo(memoryDb()), clock)
    await store.load()
    const alice = new Author()
    alice.append('notes', { id: 'old', text: 'old', ttl: 1000 }, T0) // expired on arrival
    alice.append('notes', { id: 'new', text: 'new', ttl: 10_000 }, T0) // live until T0+10000
    const merged = await store.dispatch(alice.feed, { loud: true })
    expect(merged?.length).toBe(2)
    expect(Object.keys(notes.state)).toEqual(['new'])
    // the expired genesis was written as a link, then evicted as a dead prefix
    expect(await heldIds(store)).toEqual([toHex(alice.feed.block(1)!.sig)])
    const summary = (await store.repo.listFeeds())[0]!
    expect(toHex(summary.chainId)).toBe(toHex(alice.feed.block(0)!.sig))
    await store.close()
  })

  it('a time that is not a whole number of ms is kept exactly: not forgotten a moment early, and not lost across a restart', async () => {
    const db = memoryDb()
    const clock = new FakeClock(T0)
    let { store, notes } = open(new Repo(db), clock)
    await store.load()
    await store.dispatch(new Author().append('notes', { id: 'n', text: 'x', ttl: 0.5 }, T0 + 10), {
      loud: true,
    })
    await store.close()
    ;({ store, notes } = open(new Repo(db), clock))
    await store.load()
    expect((await store.gc(T0 + 10)).expired).toBe(0) // due at T0 + 10.5
    expect(await notes.get('n')).toEqual({ text: 'x', expiresAt: T0 + 10.5 })
    expect((await store.gc(T0 + 11)).expired).toBe(1)
    expect(await notes.get('n')).toBeUndefined()
    await store.close()
  })
})

/** Counts the range reads (iterators, keys and values) made of `db` until `restore()`. */
function spyRangeReads(db: ReturnType<typeof memoryDb>): {
  readonly count: number
  restore(): void
} {
  const methods = ['iterator', 'keys', 'values'] as const
  const own = methods.map((name) => db[name])
  let count = 0
  for (const [i, name] of methods.entries()) {
    // biome-ignore lint/suspicious/noExplicitAny: each method keeps its own signature
    ;(db as any)[name] = (...args: unknown[]) => {
      count++
      // biome-ignore lint/suspicious/noExplicitAny: as above
      return (own[i] as any).apply(db, args)
    }
  }
  return {
    get count() {
      return count
    },
    restore() {
      // biome-ignore lint/suspicious/noExplicitAny: as above
      for (const [i, name] of methods.entries()) (db as any)[name] = own[i]
    },
  }
}

describe('gc cost', () => {
  it('forgets 1,000 objects of 1,000 chains in a fixed number of database batches and range reads', async () => {
    const db = memoryDb()
    const clock = new FakeClock(T0)
    const { store, notes } = open(new Repo(db), clock)
    await store.load()
    for (let i = 0; i < 1000; i++) {
      const feed = new Author().append('notes', { id: `n${i}`, text: 'x', ttl: t1 - T0 }, T0)
      await store.dispatch(feed, { loud: true })
    }
    const batches = spyBatches(db)
    const ranges = spyRangeReads(db)
    const points = spyReads(db)
    expect((await store.gc(t1)).expired).toBe(1000)
    batches.restore()
    ranges.restore()
    points.restore()
    expect(batches.count).toBeLessThanOrEqual(2) // the timers and state forgotten, then the blocks
    // The due timers and the next one; none per chain (its blocks and its dead prefix are
    // read by key: before, two range reads per chain, 2,002 in all).
    expect(ranges.count).toBe(2)
    // Point reads: the due objects and their blocks' records in one, the chain records in
    // one per 32 chains (which the eviction reuses), the index nodes; none per chain (before,
    // a chain record read per chain: 1,034 in all).
    expect(points.count).toBeLessThanOrEqual(40)
    expect(await notes.count()).toBe(0)
    expect(await store.repo.listFeeds()).toEqual([])
    await store.close()
  })

  it('evicts a chain of more blocks than one read of blocks by key takes (1,024)', async () => {
    const clock = new FakeClock(T0)
    const { store, notes } = open(new Repo(memoryDb()), clock)
    await store.load()
    const alice = new Author()
    for (let i = 0; i < 1100; i++) alice.append('notes', { id: `n${i}`, text: 'x', ttl: 1000 }, T0)
    expect(await store.dispatch(alice.feed, { loud: true })).toHaveLength(1100)
    expect(await store.gc(t1)).toEqual({ expired: 1100, evicted: 1100 })
    expect(await notes.count()).toBe(0)
    expect(await heldIds(store)).toEqual([])
    expect(await store.repo.listFeeds()).toEqual([])
    expect(await store.repo.readBlock(alice.feed.block(1099)!.sig)).toBeUndefined()
    await store.close()
  })
})
