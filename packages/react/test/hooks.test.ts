import { type BlockContext, type ComputeContext, Memory, SimpleKernel } from '@picostack/kernel'
import { type CollectionReader, map, type Readable, Writable } from '@picostack/views'
import { createElement as h, startTransition } from 'react'
import { renderToString } from 'react-dom/server'
import { act, create, type ReactTestRenderer } from 'react-test-renderer'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  KernelProvider,
  type QueryResult,
  useKernel,
  useObject,
  useOnline,
  usePeers,
  useQuery,
  useSlice,
  useView,
} from '../src/index.ts'

interface Note {
  title: string
}

/** Notes by id; a later block with the same id replaces the title. */
class Notes extends Memory<Note> {
  override idOf({ payload }: BlockContext) {
    return payload.id
  }
  compute(_: Note, { payload }: ComputeContext<Note>) {
    return { title: payload.title }
  }
}
// React's act() environment flag (what testing libraries set).
;(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true

let errors: unknown[][]
beforeEach(() => {
  errors = []
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
    // react-test-renderer announces its own deprecation; anything else is a finding.
    if (!String(args[0]).includes('react-test-renderer is deprecated')) errors.push(args)
  })
})
afterEach(() => {
  vi.restoreAllMocks()
  expect(errors).toEqual([])
})

const flush = () => new Promise<void>((resolve) => setTimeout(resolve, 0))

let counterRenders = 0
function Counter({ count }: { count: Writable<number> }) {
  counterRenders++
  return h('b', null, `count ${useView(count)}`)
}

/** Reads an object-valued derived view: an unstable snapshot would loop and warn. */
function Boxed({ view }: { view: Readable<{ n: number }> }) {
  return h('b', null, `n ${useView(view).n}`)
}

function BlockCount() {
  return h('i', null, `blocks ${useSlice<number>('blocks')}`)
}

function OneNote({ notes, id }: { notes: CollectionReader<Note>; id: string }) {
  return h('i', null, useObject(notes, id)?.title ?? 'none')
}

function Lost() {
  return h('i', null, useKernel().pk)
}

function Status() {
  const peers = usePeers()
  const online = useOnline()
  return h('p', null, `${online ? 'online' : 'offline'} ${peers.length}`)
}

describe('useView', () => {
  it('renders the current value on the server and in a renderer, and re-renders on change', async () => {
    const count = new Writable(1)
    expect(renderToString(h(Counter, { count }))).toBe('<b>count 1</b>')
    let root!: ReactTestRenderer
    await act(async () => {
      root = create(h(Counter, { count }))
    })
    expect(root.toJSON()).toMatchObject({ children: ['count 1'] })
    const before = counterRenders
    await act(async () => count.set(2))
    expect(root.toJSON()).toMatchObject({ children: ['count 2'] })
    expect(counterRenders).toBe(before + 1)
    await act(async () => root.unmount())
    expect(count.subscriberCount).toBe(0)
  })
})

describe('stable snapshots', () => {
  it('a derived object view renders without a snapshot warning, server and client, in a transition (React 19 renders concurrently)', async () => {
    const count = new Writable(1)
    const boxed = map(count, (n) => ({ n }))
    expect(boxed.value).toBe(boxed.value)
    expect(renderToString(h(Boxed, { view: boxed }))).toBe('<b>n 1</b>')
    let root!: ReactTestRenderer
    await act(async () => {
      root = create(h(Boxed, { view: boxed }))
    })
    await act(async () => {
      startTransition(() => count.set(2))
    })
    expect(root.toJSON()).toMatchObject({ children: ['n 2'] })
    await act(async () => root.unmount())
    expect(count.subscriberCount).toBe(0)
  })
})

describe('KernelProvider and kernel hooks', () => {
  it('useKernel outside a provider throws REACT_NO_KERNEL', () => {
    expect(() => renderToString(h(Lost))).toThrow(
      expect.objectContaining({ code: 'REACT_NO_KERNEL' }),
    )
  })

  it('usePeers and useOnline follow two kernels connecting and leaving', async () => {
    const a = new SimpleKernel()
    const b = new SimpleKernel()
    await a.boot()
    await b.boot()
    let root!: ReactTestRenderer
    await act(async () => {
      root = create(h(KernelProvider, { kernel: a }, h(Status)))
    })
    expect(root.toJSON()).toMatchObject({ children: ['offline 0'] })
    const wire = a.spawnWire()
    await act(async () => {
      wire.open(b.spawnWire())
      while (a.peers.length === 0) await flush()
    })
    expect(root.toJSON()).toMatchObject({ children: ['online 1'] })
    await act(async () => {
      await b.close()
      while (a.peers.length > 0) await flush()
    })
    expect(root.toJSON()).toMatchObject({ children: ['offline 0'] })
    await act(async () => root.unmount())
    await a.close()
  })
})

/** Renders the notes of a page-at-a-time query; hands its result to the test. */
function NoteList({
  notes,
  limit,
  onResult,
}: {
  notes: CollectionReader<Note>
  limit: number
  onResult: (result: QueryResult<Note>) => void
}) {
  const result = useQuery(notes, { limit })
  onResult(result)
  return h(
    'ul',
    { 'data-loading': result.loading },
    result.items.map(({ id, value }) => h('li', { key: id }, value.title)),
  )
}

/** Lets React commit what arrived (act flushes at its end) until `check` holds. */
async function actUntil(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await act(flush)
  expect(check()).toBe(true)
}

describe('useQuery', () => {
  it('renders without reading (server), then the first page, pages on more(), and follows changes', async () => {
    const kernel = new SimpleKernel()
    const notes = kernel.store.register('notes', Notes)
    await kernel.boot()
    for (let i = 0; i < 250; i++) {
      await kernel.createBlock('notes', {
        id: `n${String(i).padStart(4, '0')}`,
        title: `note ${i}`,
      })
    }
    let reads = 0
    const counted: CollectionReader<Note> = {
      get: (id) => notes.get(id),
      count: () => notes.count(),
      onChange: (fn) => notes.onChange(fn),
      query: (q) => {
        reads++
        return notes.query(q)
      },
    }
    let result!: QueryResult<Note>
    let renders = 0
    const onResult = (r: QueryResult<Note>) => {
      renders++
      result = r
    }
    const list = h(NoteList, { notes: counted, limit: 50, onResult })
    expect(renderToString(list)).toBe('<ul data-loading="true"></ul>')
    expect(reads).toBe(0)
    let root!: ReactTestRenderer
    await act(async () => {
      root = create(list)
    })
    await actUntil(() => !result.loading)
    expect(root.root.findAllByType('li')).toHaveLength(50)
    await act(() => result.more())
    await actUntil(() => result.items.length === 100)
    expect(root.root.findAllByType('li')).toHaveLength(100)
    expect(reads).toBe(2)
    await act(async () => {
      await kernel.createBlock('notes', { id: 'n0003', title: 'renamed' })
      await kernel.createBlock('notes', { id: 'n0001a', title: 'inserted' })
      await kernel.createBlock('notes', { id: 'n9999', title: 'beyond the pages read' })
    })
    const titles = root.root.findAllByType('li').map((li) => li.children[0])
    expect(titles.slice(0, 5)).toEqual(['note 0', 'note 1', 'inserted', 'note 2', 'renamed'])
    expect(titles).toHaveLength(101)
    expect(reads).toBe(2)
    expect(renders).toBeLessThan(12)
    await act(async () => root.unmount())
    await kernel.close()
  })
})

describe('useSlice and useObject', () => {
  it('follow a slice of the provided kernel and one object of a collection', async () => {
    const kernel = new SimpleKernel()
    const notes = kernel.store.register('notes', Notes)
    kernel.store.register<number>({
      name: 'blocks',
      initialValue: 0,
      reducer: ({ state }) => state + 1,
    })
    await kernel.boot()
    await kernel.createBlock('notes', { id: 'a', title: 'first' })
    let root!: ReactTestRenderer
    await act(async () => {
      root = create(
        h(
          KernelProvider,
          { kernel },
          h(BlockCount),
          h(OneNote, { notes, id: 'a' }),
          h(OneNote, { notes, id: 'b' }),
        ),
      )
    })
    await actUntil(() => JSON.stringify(root.toJSON()).includes('first'))
    expect(root.toJSON()).toMatchObject([
      { children: ['blocks 1'] },
      { children: ['first'] },
      { children: ['none'] },
    ])
    await act(async () => {
      await kernel.createBlock('notes', { id: 'b', title: 'second' })
    })
    expect(root.toJSON()).toMatchObject([
      { children: ['blocks 2'] },
      { children: ['first'] },
      { children: ['second'] },
    ])
    await act(async () => root.unmount())
    await kernel.close()
  })
})
