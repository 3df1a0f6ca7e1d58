import { derived, fromStore, get, writable } from 'svelte/store'
import { describe, expect, it } from 'vitest'
import { combine, map, queryView, until, Writable } from '../src/index.ts'
import { FakeCollection, record } from './helpers.ts'

describe('views are Svelte stores', () => {
  it("svelte/store's get reads a view once and leaves no subscriber", () => {
    const count = new Writable(2)
    const doubled = map(count, (n) => n * 2)
    expect(get(doubled)).toBe(4)
    expect(count.subscriberCount).toBe(0)
  })

  it("svelte/store's derived follows views, and a view follows a Svelte store", () => {
    const count = new Writable(1)
    const label = derived(
      [map(count, (n) => n * 10), count],
      ([$tens, $count]) => `${$count}:${$tens}`,
    )
    const seen: string[] = []
    const stop = label.subscribe((value) => seen.push(value))
    count.set(2)
    expect(seen).toEqual(['1:10', '2:20'])
    stop()
    expect(count.subscriberCount).toBe(0)

    const svelteStore = writable('a')
    const both = combine([svelteStore, count])
    const { values, stop: stopBoth } = record(both)
    svelteStore.set('b')
    expect(values).toEqual([
      ['a', 2],
      ['b', 2],
    ])
    stopBoth()
  })

  it("Svelte 5's fromStore (what runes code uses) reads a view's current value", () => {
    const count = new Writable(3)
    const box = fromStore(map(count, (n) => n + 1))
    expect(box.current).toBe(4)
    count.set(9)
    expect(box.current).toBe(10)
  })

  it('a query view works through derived, updating as pages arrive', async () => {
    const collection = new FakeCollection<{ title: string }>()
    collection.put('a', { title: 'first' })
    const tasks = queryView(collection)
    const titles = derived(tasks, ($tasks) => $tasks.items.map((item) => item.value.title))
    const seen: string[][] = []
    const stop = titles.subscribe((value) => seen.push(value))
    await until(tasks, (s) => !s.loading)
    collection.put('b', { title: 'second' })
    expect(seen.at(-1)).toEqual(['first', 'second'])
    expect(seen[0]).toEqual([])
    stop()
    expect(collection.observers.size).toBe(0)
  })
})
