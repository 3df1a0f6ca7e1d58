import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { countView, objectView, type QueryState, queryView, until } from '../src/index.ts'
import { FakeCollection, flush, record } from './helpers.ts'

interface Task {
  title: string
  rank: number
}

const ids = (state: QueryState<unknown>) => state.items.map((item) => item.id)

function tasks(n: number): FakeCollection<Task> {
  const collection = new FakeCollection<Task>((task) => String(task.rank).padStart(4, '0'))
  for (let i = 0; i < n; i++)
    collection.put(`t${String(i).padStart(3, '0')}`, { title: `task ${i}`, rank: i % 7 })
  return collection
}

describe('queryView', () => {
  it('reads the first page on subscription and the next ones with more()', async () => {
    const collection = tasks(25)
    const view = queryView(collection, { limit: 10 })
    expect(view.value.loading).toBe(true)
    expect(collection.reads).toBe(0)
    const { values, stop } = record(view)
    const first = await until(view, (s) => !s.loading)
    expect(ids(first)).toEqual(
      Array.from({ length: 10 }, (_, i) => `t${String(i).padStart(3, '0')}`),
    )
    expect(first.done).toBe(false)
    await view.more()
    await view.more()
    expect(view.value.items).toHaveLength(25)
    expect(view.value.done).toBe(true)
    await view.more()
    expect(collection.reads).toBe(3)
    expect(values.every((state) => Object.isFrozen(state) && Object.isFrozen(state.items))).toBe(
      true,
    )
    stop()
    expect(collection.observers.size).toBe(0)
  })

  it('follows changes in the pages read without reading them again', async () => {
    const collection = tasks(30)
    const view = queryView(collection, { limit: 10 })
    const { stop } = record(view)
    await until(view, (s) => !s.loading)
    const before = view.value
    collection.put('t003', { title: 'renamed', rank: 3 })
    expect(view.value.items[3]).toEqual({ id: 't003', value: { title: 'renamed', rank: 3 } })
    expect(before.items[3]!.value.title).toBe('task 3')
    collection.put('t0045', { title: 'new inside', rank: 0 })
    collection.put('t500', { title: 'new beyond the pages read', rank: 0 })
    collection.put('t001', undefined)
    expect(ids(view.value)).toEqual([
      't000',
      't002',
      't003',
      't004',
      't0045',
      't005',
      't006',
      't007',
      't008',
      't009',
    ])
    expect(collection.reads).toBe(1)
    await view.more()
    await view.more()
    await view.more()
    expect(view.value.done).toBe(true)
    expect(view.value.items.at(-1)!.id).toBe('t500')
    collection.put('t999', { title: 'after the end', rank: 1 })
    expect(view.value.items.at(-1)!.id).toBe('t999')
    expect(view.value.items).toHaveLength(32)
    stop()
  })

  it('keeps a reverse query and a declared order (the collection orders) in place', async () => {
    const collection = tasks(20)
    const newest = queryView(collection, { limit: 5, reverse: true })
    const byRank = queryView(collection, { index: 'rank', limit: 6 })
    const a = record(newest)
    const b = record(byRank)
    await until(newest, (s) => !s.loading)
    await until(byRank, (s) => !s.loading)
    expect(ids(newest.value)).toEqual(['t019', 't018', 't017', 't016', 't015'])
    expect(ids(byRank.value)).toEqual(['t000', 't007', 't014', 't001', 't008', 't015'])
    collection.put('t0185', { title: 'x', rank: 0 })
    collection.put('t014', { title: 'moved', rank: 1 })
    expect(ids(newest.value)).toEqual(['t019', 't0185', 't018', 't017', 't016', 't015'])
    expect(ids(byRank.value)).toEqual(['t000', 't007', 't0185', 't001', 't008', 't014', 't015'])
    a.stop()
    b.stop()
  })

  it('takes keyOf for a declared order, and refuses an order it cannot follow (VIEWS_INVALID_INPUT)', () => {
    const collection = tasks(3)
    expect(() =>
      queryView(collection, { index: 'rank' }, { keyOf: (t) => String(t.rank) }),
    ).not.toThrow()
    const bare = {
      query: collection.query,
      get: collection.get,
      count: collection.count,
      onChange: collection.onChange,
    }
    expect(() => queryView(bare, { index: 'rank' })).toThrow(
      expect.objectContaining({ code: 'VIEWS_INVALID_INPUT' }),
    )
  })

  it('applies changes that arrive while a page is being read after the page', async () => {
    const collection = tasks(10)
    let release!: () => void
    collection.hold = new Promise((resolve) => (release = resolve))
    const view = queryView(collection, { limit: 5 })
    const { stop } = record(view)
    collection.put('t002', undefined)
    collection.put('t0005', { title: 'early', rank: 0 })
    release()
    await until(view, (s) => !s.loading)
    expect(ids(view.value)).toEqual(['t000', 't0005', 't001', 't003', 't004'])
    stop()
  })

  it('reports a failed read as VIEWS_QUERY_FAILED with its cause, and more() retries it', async () => {
    const collection = tasks(4)
    const cause = new Error('disk gone')
    collection.failNext = cause
    const view = queryView(collection)
    const { stop } = record(view)
    const failed = await until(view, (s) => !s.loading)
    expect(failed.error?.code).toBe('VIEWS_QUERY_FAILED')
    expect(failed.error?.cause).toBe(cause)
    await view.more()
    expect(view.value.error).toBeUndefined()
    expect(ids(view.value)).toEqual(['t000', 't001', 't002', 't003'])
    stop()
  })

  it('drops a read that returns after the last subscriber left, and starts over on the next', async () => {
    const collection = tasks(4)
    const view = queryView(collection, { limit: 2 })
    const first = record(view)
    first.stop()
    await flush()
    expect(view.value.loading).toBe(true)
    const second = record(view)
    await until(view, (s) => !s.loading)
    expect(ids(view.value)).toEqual(['t000', 't001'])
    second.stop()
  })

  it('10,000 subscribe/unsubscribe leave no change observer on the collection', async () => {
    const collection = tasks(3)
    const view = queryView(collection)
    const keep = view.subscribe(() => {})
    for (let i = 0; i < 10_000; i++) view.subscribe(() => {})()
    expect(collection.observers.size).toBe(1)
    keep()
    expect(collection.observers.size).toBe(0)
    await flush()
  })

  it('property: the items are always a prefix of the whole ordered query, all of it once done', async () => {
    const op = fc.oneof(
      fc.record({ put: fc.integer({ min: 0, max: 60 }), rank: fc.integer({ min: 0, max: 5 }) }),
      fc.record({ del: fc.integer({ min: 0, max: 60 }) }),
      fc.constant('more' as const),
    )
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { maxLength: 40 }),
        fc.boolean(),
        fc.boolean(),
        async (ops, reverse, ranked) => {
          const collection = tasks(30)
          const query = { limit: 4, reverse, ...(ranked ? { index: 'rank' } : {}) }
          const view = queryView(collection, query)
          const { stop } = record(view)
          const truth = async () => (await collection.query({ ...query, limit: 10_000 })).items
          await until(view, (s) => !s.loading)
          for (const step of ops) {
            if (step === 'more') await view.more()
            else if ('put' in step)
              collection.put(`t${String(step.put).padStart(3, '0')}`, {
                title: 'p',
                rank: step.rank,
              })
            else collection.put(`t${String(step.del).padStart(3, '0')}`, undefined)
            const all = await truth()
            expect(view.value.items).toEqual(all.slice(0, view.value.items.length))
          }
          while (!view.value.done) await view.more()
          expect(view.value.items).toEqual(await truth())
          stop()
        },
      ),
      { numRuns: 60 },
    )
  })
})

describe('countView and objectView', () => {
  it('count follows changes, one count at a time', async () => {
    const collection = tasks(3)
    const view = countView(collection)
    const { values, stop } = record(view)
    expect(await until(view, (n) => n !== undefined)).toBe(3)
    collection.put('a', { title: 'a', rank: 0 })
    collection.put('b', { title: 'b', rank: 0 })
    collection.put('t000', undefined)
    expect(await until(view, (n) => n === 4)).toBe(4)
    expect(values.length).toBeLessThanOrEqual(4)
    stop()
    expect(collection.observers.size).toBe(0)
  })

  it('object view reads the object, then follows its changes only', async () => {
    const collection = tasks(3)
    const view = objectView(collection, 't001')
    const { values, stop } = record(view)
    await flush()
    collection.put('t002', { title: 'other', rank: 0 })
    collection.put('t001', { title: 'mine', rank: 1 })
    collection.put('t001', undefined)
    expect(values).toEqual([
      undefined,
      { title: 'task 1', rank: 1 },
      { title: 'mine', rank: 1 },
      undefined,
    ])
    stop()
    expect(collection.observers.size).toBe(0)
  })
})
