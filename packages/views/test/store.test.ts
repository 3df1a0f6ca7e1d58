import { Feed, signPair } from '@picostack/feed'
import { encodeBlock, Store } from '@picostack/store'
import { MemoryLevel } from 'memory-level'
import { afterEach, describe, expect, it } from 'vitest'
import { Notes } from '../../store/test/notes.ts'
import { map, queryView, sliceView, until } from '../src/index.ts'
import { record } from './helpers.ts'

const stores: Store[] = []
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close()
})

async function setup() {
  const store = new Store(
    new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: 'view', valueEncoding: 'view' }),
  )
  stores.push(store)
  const notes = store.register('notes', Notes)
  store.register<number>({ name: 'clicks', initialValue: 0, reducer: ({ state }) => state + 1 })
  await store.load()
  const { sk } = signPair()
  const add = async (payload: Record<string, unknown>) => {
    const feed = new Feed()
    feed.append(encodeBlock('notes', payload, 1), sk)
    await store.dispatch(feed, { loud: true })
  }
  return { store, notes, add }
}

describe('views over the real store', () => {
  it('a query view in a declared order pages from disk and follows onChange', async () => {
    const { notes, add } = await setup()
    for (let i = 0; i < 12; i++) await add({ id: `note-${i}`, text: `t${i}`, rank: 100 + i })
    const view = queryView(notes, { index: 'rank', limit: 5, reverse: true })
    const { stop } = record(view)
    await until(view, (s) => !s.loading)
    expect(view.value.items.map((i) => i.id)).toEqual([
      'note-11',
      'note-10',
      'note-9',
      'note-8',
      'note-7',
    ])
    await add({ id: 'note-new', text: 'newest', rank: 500 })
    await add({ id: 'note-9', text: 'moved back', rank: 50 })
    await add({ id: 'note-old', text: 'oldest', rank: 1 })
    expect(view.value.items.map((i) => i.id)).toEqual([
      'note-new',
      'note-11',
      'note-10',
      'note-8',
      'note-7',
    ])
    await view.more()
    await view.more()
    expect(view.value.done).toBe(true)
    expect(view.value.items.map((i) => i.id)).toEqual(
      (await notes.query({ index: 'rank', reverse: true, limit: 100 })).items.map((i) => i.id),
    )
    expect(view.value.items.at(-1)!.id).toBe('note-old')
    expect(view.value.items.at(-2)).toEqual({
      id: 'note-9',
      value: { text: 'moved back', rank: 50 },
    })
    stop()
  })

  it('10,000 subscribe/unsubscribe of views over store.on leave no observer behind', async () => {
    const { store, add } = await setup()
    let live = 0
    const counted = {
      on(name: string, fn: (value: never) => void) {
        live++
        const off = store.on(name, fn)
        return () => {
          live--
          off()
        }
      },
    }
    let calls = 0
    const view = map(sliceView<number>(counted, 'clicks'), (n) => n * 2)
    for (let i = 0; i < 10_000; i++) view.subscribe(() => calls++)()
    expect(live).toBe(0)
    expect(calls).toBe(10_000)
    await add({ id: 'x', text: 'x', rank: 1 })
    expect(calls).toBe(10_000)
    const { values, stop } = record(view)
    await add({ id: 'y', text: 'y', rank: 2 })
    expect(values).toEqual([2, 4])
    stop()
    expect(live).toBe(0)
  })
})
