import { Feed } from '@picostack/feed'
import { Repo } from '@picostack/repo'
import { describe, expect, it } from 'vitest'
import { Memory, Store } from '../src/index.ts'
import { Author, FakeClock, forge, memoryDb } from './helpers.ts'

/** A store with one `sum` slice over `add` blocks; `db.batch` calls are counted. */
async function setup() {
  const db = memoryDb()
  const writes = { batches: 0 }
  const batch = db.batch.bind(db)
  db.batch = ((...args: Parameters<typeof batch>) => {
    writes.batches++
    return batch(...args)
  }) as typeof db.batch
  const store = new Store(db, { clock: new FakeClock() })
  store.register<number>({
    name: 'sum',
    initialValue: 0,
    filter: ({ type, payload }) => {
      if (type !== 'add') return true
      if (payload.n < 0) return 'negative'
    },
    reducer: ({ state, payload }) => state + payload.n,
  })
  await store.load()
  return { store, writes }
}

function adds(author: Author, ns: number[]): Feed {
  for (const [i, n] of ns.entries()) author.append('add', { n }, i + 1)
  return author.feed
}

describe('apply and batched writes', () => {
  it('writes a whole patch, with its state, in one database batch', async () => {
    const { store, writes } = await setup()
    const feed = adds(new Author(), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    writes.batches = 0
    expect((await store.dispatch(feed))?.length).toBe(10)
    expect(writes.batches).toBe(1)
    expect(store.state.sum).toBe(55)
    // The slice value on disk is the last one: a reopened store agrees.
    const reopened = new Store(store.repo)
    reopened.register<number>({ name: 'sum', initialValue: 0, reducer: ({ state }) => state })
    await reopened.load()
    expect(reopened.state.sum).toBe(55)
  })

  it('says why a patch merged short, without throwing', async () => {
    const { store } = await setup()
    const alice = new Author()
    const feed = adds(alice, [1, 2, -3, 4])
    const result = await store.apply(feed)
    expect(result.merged.length).toBe(2)
    expect(result.chainId).toEqual(feed.first!.sig)
    expect(result.refusal).toEqual({ code: 'STORE_REJECTED', reason: 'negative' })
    // Already held: merges nothing, and that is no refusal.
    expect(await store.apply(feed.slice(0, 2))).toEqual({
      merged: [],
      chainId: undefined,
      refusal: undefined,
    })
    expect((await store.apply(Uint8Array.of(1, 2, 3))).refusal?.code).toBe('STORE_INVALID_PATCH')
  })

  it('a forged block: the valid blocks before it merge, it and the rest never do', async () => {
    const { store } = await setup()
    const feed = adds(new Author(), [1, 2, 3, 4, 5, 6])
    const forged = forge(feed, 4)
    const result = await store.apply(forged)
    expect(result.merged.length).toBe(4)
    expect(result.refusal?.code).toBe('STORE_INVALID_PATCH')
    expect(store.state.sum).toBe(10)
    expect(await store.repo.hasBlock(feed.block(4)!.sig)).toBe(false)
    // `verified` is honoured for Feed instances only: bytes are always checked.
    const again = await store.apply(forged, { verified: true })
    expect(again.refusal?.code).toBe('STORE_INVALID_PATCH')
    expect(store.state.sum).toBe(10)
    expect(await store.repo.hasBlock(feed.block(4)!.sig)).toBe(false)
    // A forged orphan never enters the mempool.
    const orphan = await store.apply(forge(feed.slice(4), 1).subarray(4 + feed.block(4)!.blockSize))
    expect(orphan.refusal?.code).toBe('STORE_INVALID_PATCH')
    expect(await store.dispatch(feed.slice(4))).toBeDefined()
    expect(store.state.sum).toBe(21)
  })

  it('a patch whose second repo batch fails merges exactly the first 1024 blocks, on disk and in memory', async () => {
    const { store } = await setup()
    const ns = Array.from({ length: 1100 }, (_, i) => i + 1)
    const feed = adds(new Author(), ns)
    const db = store.repo.db
    const batch = db.batch.bind(db)
    // The batch after the run's first group of 1024 blocks (thousands of ops) fails.
    let groups = 0
    db.batch = ((ops: unknown[], ...rest: unknown[]) => {
      if (groups > 0) {
        return Promise.reject(new DOMException('the quota is exceeded', 'QuotaExceededError'))
      }
      if (ops.length >= 1024) groups++
      return (batch as (...args: unknown[]) => Promise<void>)(ops, ...rest)
    }) as typeof db.batch
    const result = await store.apply(feed, { verified: true })
    db.batch = batch
    expect(groups).toBe(1)
    expect(result.merged.length).toBe(1024)
    expect(result.refusal?.code).toBe('STORE_WRITE')
    const sum = (n: number) => (n * (n + 1)) / 2
    expect(store.state.sum).toBe(sum(1024))
    const head = await store.repo.loadHead(feed.first!.key!)
    expect(head?.blocks.map((b) => b.sig)).toEqual(feed.blocks.slice(0, 1024).map((b) => b.sig))
    // The disk agrees: a store opened on it has the same state.
    const reopened = new Store(store.repo)
    reopened.register<number>({ name: 'sum', initialValue: 0, reducer: ({ state }) => state })
    await reopened.load()
    expect(reopened.state.sum).toBe(sum(1024))
    // The rest merges on top.
    expect((await store.apply(feed, { verified: true })).merged.length).toBe(76)
    expect(store.state.sum).toBe(sum(1100))
  })

  it('trusts a verified Feed and passes a partial chain its height', async () => {
    const { store } = await setup()
    const feed = adds(new Author(), [1, 2, 3, 4, 5])
    const chainId = feed.first!.sig
    const tail = Feed.from(feed.slice(2).buffer) // verified here
    const result = await store.apply(tail, { chainId, height: 3, verified: true })
    expect(result.merged.length).toBe(3)
    expect(result.chainId).toEqual(chainId)
    expect(await store.repo.summary(chainId)).toMatchObject({
      height: 5,
      length: 3,
      heightKnown: true,
    })
    expect(store.state.sum).toBe(12)
  })
})

describe('slice entries that never expire', () => {
  it('live in their block record; one dropped by a recompute stays dropped after a restart', async () => {
    const clock = new FakeClock(1_000)
    const repo = new Repo(memoryDb())
    const rules = { refuseBig: false }
    const open = async () => {
      const store = new Store(repo, { clock })
      store.register<number>({
        name: 'total',
        initialValue: 0,
        filter: ({ type, payload }) => type !== 'add' || (rules.refuseBig && payload.n > 100),
        reducer: ({ state, payload }) => state + payload.n,
        expiresAt: ({ date, payload }) => (payload.ttl ? date + payload.ttl : Infinity),
      })
      // The collection keeps every block backed (held) whatever the slice decides.
      store.register(
        'add',
        class extends Memory<number> {
          override idOf({ payload }: { payload: { n: number } }) {
            return String(payload.n)
          }
          compute(_: number | undefined, { payload }: { payload: { n: number } }) {
            return payload.n
          }
        },
      )
      await store.load()
      return store
    }
    let store = await open()
    const alice = new Author()
    alice.append('add', { n: 500 }, 1_000) // never expires
    alice.append('add', { n: 7, ttl: 100 }, 1_000) // expires at 1,100
    alice.append('add', { n: 3 }, 1_000)
    expect((await store.dispatch(alice.feed))?.length).toBe(3)
    expect(store.state.total).toBe(510)
    await store.close()
    store = await open()
    expect(store.state.total).toBe(510)
    // The rules change; the expiry at 1,100 recomputes the slice, which drops the 500.
    rules.refuseBig = true
    await clock.advanceTo(1_200, store)
    expect(store.state.total).toBe(3)
    expect(await store.repo.hasBlock(alice.feed.first!.sig)).toBe(true) // the collection's
    await store.close()
    rules.refuseBig = false // the dropped entry stays dropped after a restart
    store = await open()
    expect(store.state.total).toBe(3)
    // Another recompute (an entry expiring at 1,300) rebuilds from the entries held.
    await store.dispatch(alice.append('add', { n: 1, ttl: 100 }, 1_200), { loud: true })
    expect(store.state.total).toBe(4)
    await clock.advanceTo(1_400, store)
    expect(store.state.total).toBe(3)
    await store.close()
  })
})
