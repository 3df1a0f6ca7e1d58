import { Feed } from '@picostack/feed'
import { describe, expect, it } from 'vitest'
import { Store } from '../src/index.ts'
import { Author, FakeClock, memoryDb } from './helpers.ts'

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

/** `feed`'s bytes with the body of block `index` changed (its signature no longer holds). */
function forge(feed: Feed, index: number): Uint8Array {
  const bytes = feed.buffer.slice()
  let end = 4
  for (let i = 0; i <= index; i++) end += feed.block(i)!.blockSize
  bytes[end - 1]! ^= 1
  return bytes
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
    expect(result.merged?.length).toBe(2)
    expect(result.chainId).toEqual(feed.first!.sig)
    expect(result.refusal).toEqual({ code: 'STORE_REJECTED', reason: 'negative' })
    // Already held: merges nothing, and that is no refusal.
    expect(await store.apply(feed.slice(0, 2))).toEqual({
      merged: undefined,
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
    expect(result.merged?.length).toBe(4)
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

  it('trusts a verified Feed and passes a partial chain its height', async () => {
    const { store } = await setup()
    const feed = adds(new Author(), [1, 2, 3, 4, 5])
    const chainId = feed.first!.sig
    const tail = Feed.from(feed.slice(2).buffer) // verified here
    const result = await store.apply(tail, { chainId, height: 3, verified: true })
    expect(result.merged?.length).toBe(3)
    expect(result.chainId).toEqual(chainId)
    expect(await store.repo.summary(chainId)).toMatchObject({
      height: 5,
      length: 3,
      heightKnown: true,
    })
    expect(store.state.sum).toBe(12)
  })
})
