import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type ObjectChange, type QueryOptions, Store, type StoreError } from '../src/index.ts'
import { Author, FakeClock, memoryDb } from './helpers.ts'
import { type Note, Notes } from './notes.ts'

async function setup(clock = new FakeClock(0), db = memoryDb()) {
  const store = new Store(db, { clock })
  const notes = store.register('notes', Notes)
  await store.load()
  return { store, notes, clock, db }
}

async function pages(notes: Notes, q: QueryOptions): Promise<string[][]> {
  const out: string[][] = []
  for (let next: QueryOptions | undefined = q; next; ) {
    const page = await notes.query(next)
    out.push(page.items.map((item) => item.id))
    next = page.next
  }
  return out
}

describe('collection reads: get, query, count, onChange', () => {
  it('pages in id order and in a declared order, forwards and backwards, with bounds', async () => {
    const { store, notes } = await setup()
    const author = new Author()
    const ids = ['b', 'a', 'd', 'c', 'e']
    for (const [i, id] of ids.entries()) {
      author.branch()
      await store.dispatch(author.append('notes', { id, text: id, rank: 10 - (i % 3) }, i), {
        loud: true,
      })
    }
    expect(await notes.count()).toBe(5)
    expect(await notes.get('d')).toEqual({ text: 'd', rank: 8 })
    expect(await notes.get('zzz')).toBeUndefined()
    expect(await pages(notes, { limit: 2 })).toEqual([['a', 'b'], ['c', 'd'], ['e']])
    expect(await pages(notes, { limit: 2, reverse: true })).toEqual([['e', 'd'], ['c', 'b'], ['a']])
    expect(await pages(notes, { gt: 'a', lte: 'd' })).toEqual([['b', 'c', 'd']])
    expect(await pages(notes, { gte: 'b', lt: 'd', reverse: true })).toEqual([['c', 'b']])
    // ranks: b 10, a 9, d 8, c 10, e 9 -> by rank, ties by id
    expect(await pages(notes, { index: 'rank', limit: 2 })).toEqual([['d', 'a'], ['e', 'b'], ['c']])
    expect(await pages(notes, { index: 'rank', gte: '0009', lt: '0010' })).toEqual([['a', 'e']])
    expect(await pages(notes, { index: 'rank', gt: '0009' })).toEqual([['b', 'c']])
    expect(await pages(notes, { index: 'rank', lte: '0009', reverse: true, limit: 1 })).toEqual([
      ['e'],
      ['a'],
      ['d'],
    ])
    const page = await notes.query({ index: 'rank' })
    expect(page.next).toBeUndefined()
    expect(page.items[0]).toEqual({ id: 'd', value: { text: 'd', rank: 8 } })
    const codes = await Promise.all([
      notes.query({ index: 'nope' }).catch((e: StoreError) => e.code),
      notes.query({ limit: 0 }).catch((e: StoreError) => e.code),
    ])
    expect(codes).toEqual(['STORE_INVALID_SLICE', 'STORE_INVALID_SLICE'])
    await store.close()
  })

  it('onChange reports each changed object once, with undefined when it expires; count follows', async () => {
    const { store, notes, clock } = await setup()
    const changes: ObjectChange<Note | undefined>[] = []
    const stop = notes.onChange((change) => changes.push(change))
    const author = new Author()
    await store.dispatch(author.append('notes', { id: 'n', text: 'one', rank: 1, ttl: 100 }, 1))
    await store.dispatch(author.append('notes', { id: 'n', text: 'two', rank: 2, ttl: 100 }, 2))
    expect(changes).toEqual([
      { id: 'n', value: { text: 'one', rank: 1 } },
      { id: 'n', value: { text: 'two', rank: 2 } },
    ])
    await clock.advanceTo(200, store)
    expect(changes.at(-1)).toEqual({ id: 'n', value: undefined })
    expect(await notes.count()).toBe(0)
    expect((await notes.query({ index: 'rank' })).items).toEqual([])
    stop()
    await store.dispatch(author.branch().append('notes', { id: 'm', text: 'x', rank: 1 }, 3))
    expect(changes).toHaveLength(3)
    await store.close()
  })

  it('pages match the in-memory state after any sequence of writes and expiries, and after a restart', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            id: fc.constantFrom('a', 'b', 'c', 'dd', 'é', 'z'),
            rank: fc.nat(20),
            ttl: fc.option(fc.integer({ min: 1, max: 50 }), { nil: undefined }),
          }),
          { maxLength: 20 },
        ),
        fc.integer({ min: 1, max: 4 }),
        async (writes, limit) => {
          const clock = new FakeClock(0)
          const db = memoryDb()
          let { store, notes } = await setup(clock, db)
          const author = new Author()
          for (const [i, w] of writes.entries()) {
            author.branch()
            const payload = { id: w.id, text: w.id, rank: w.rank, ttl: w.ttl && i + w.ttl }
            await store.dispatch(author.append('notes', payload, i))
          }
          await clock.advanceTo(25, store)
          await store.close()
          await db.open()
          ;({ store, notes } = await setup(clock, db))
          const state = notes.state as Record<string, Note>
          const byId = Object.keys(state).sort((x, y) =>
            Buffer.compare(Buffer.from(x), Buffer.from(y)),
          )
          expect((await pages(notes, { limit })).flat()).toEqual(byId)
          const byRank = [...byId].sort((x, y) => state[x]!.rank - state[y]!.rank)
          expect((await pages(notes, { index: 'rank', limit })).flat()).toEqual(byRank)
          expect(await notes.count()).toBe(byId.length)
          await store.close()
        },
      ),
      { numRuns: 40 },
    )
  })
})
