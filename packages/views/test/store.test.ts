import { Feed, signPair } from '@picostack/feed'
import {
  type BlockContext,
  type ComputeContext,
  encodeBlock,
  Memory,
  Store,
} from '@picostack/store'
import { MemoryLevel } from 'memory-level'
import { afterEach, describe, expect, it } from 'vitest'
import { map, queryView, sliceView, until } from '../src/index.ts'
import { record } from './helpers.ts'

interface Task {
  title: string
  created: number
}

class Tasks extends Memory<Task | undefined> {
  override orders = { created: (task: Task | undefined) => String(task!.created).padStart(16, '0') }
  override idOf({ payload }: BlockContext) {
    return payload.id
  }
  compute(_: Task | undefined, { payload }: ComputeContext<Task | undefined>) {
    return { title: payload.title, created: payload.created }
  }
}

const stores: Store[] = []
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close()
})

async function setup() {
  const store = new Store(
    new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: 'view', valueEncoding: 'view' }),
  )
  stores.push(store)
  const tasks = store.register('tasks', Tasks)
  store.register<number>({ name: 'clicks', initialValue: 0, reducer: ({ state }) => state + 1 })
  await store.load()
  const { sk } = signPair()
  const add = async (payload: Record<string, unknown>) => {
    const feed = new Feed()
    feed.append(encodeBlock('tasks', payload, 1), sk)
    await store.dispatch(feed, { loud: true })
  }
  return { store, tasks, add }
}

describe('views over the real store', () => {
  it('a query view in a declared order pages from disk and follows onChange', async () => {
    const { tasks, add } = await setup()
    for (let i = 0; i < 12; i++) await add({ id: `task-${i}`, title: `t${i}`, created: 100 + i })
    const view = queryView(tasks, { index: 'created', limit: 5, reverse: true })
    const { stop } = record(view)
    await until(view, (s) => !s.loading)
    expect(view.value.items.map((i) => i.id)).toEqual([
      'task-11',
      'task-10',
      'task-9',
      'task-8',
      'task-7',
    ])
    await add({ id: 'task-new', title: 'newest', created: 500 })
    await add({ id: 'task-9', title: 'moved back', created: 50 })
    await add({ id: 'task-old', title: 'oldest', created: 1 })
    expect(view.value.items.map((i) => i.id)).toEqual([
      'task-new',
      'task-11',
      'task-10',
      'task-8',
      'task-7',
    ])
    await view.more()
    await view.more()
    expect(view.value.done).toBe(true)
    expect(view.value.items.map((i) => i.id)).toEqual(
      (await tasks.query({ index: 'created', reverse: true, limit: 100 })).items.map((i) => i.id),
    )
    expect(view.value.items.at(-1)!.id).toBe('task-old')
    expect(view.value.items.at(-2)).toEqual({
      id: 'task-9',
      value: { title: 'moved back', created: 50 },
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
    await add({ id: 'x', title: 'x', created: 1 })
    expect(calls).toBe(10_000)
    const { values, stop } = record(view)
    await add({ id: 'y', title: 'y', created: 2 })
    expect(values).toEqual([2, 4])
    stop()
    expect(live).toBe(0)
  })
})
