import { describe, expect, it } from 'vitest'
import { decodeBlock, Store, StoreError } from '../src/index.ts'
import { Author, FakeClock, memoryDb } from './helpers.ts'

/**
 * The clock slice of the picostack README (the facade example): `ctx.now` is the store's
 * clock (here 1000 ms after the epoch, so a tick at 5000 is from the future; by Date.now()
 * it would not be).
 */
function clockStore(clock: FakeClock): Store {
  const store = new Store(memoryDb(), { clock })
  store.register({
    name: 'clock',
    initialValue: 0,
    filter({ block, now }) {
      const { type, time } = decodeBlock(block.body)
      if (type !== 'tick') return true
      if (time > now) return 'TimestampFromFuture'
    },
    reducer({ block }) {
      return decodeBlock(block.body).time
    },
  })
  return store
}

describe('slices (README clock example)', () => {
  it('accepts ticks, rejects a tick from the future with its reason, observers fire', async () => {
    const clock = new FakeClock(1000)
    const store = clockStore(clock)
    await store.load()
    const seen: number[] = []
    const off = store.on<number>('clock', (v) => seen.push(v))
    const alice = new Author()

    const merged = await store.dispatch(alice.append('tick', { time: 900 }, 900))
    expect(merged?.length).toBe(1)
    expect(store.state.clock).toBe(900)

    const future = alice.append('tick', { time: 5000 }, 5000)
    const err = await store.dispatch(future, { loud: true }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StoreError)
    expect((err as StoreError).code).toBe('STORE_REJECTED')
    expect((err as StoreError).reason).toBe('TimestampFromFuture')
    expect(await store.dispatch(future)).toBeUndefined()
    expect(store.state.clock).toBe(900)
    expect(seen).toEqual([0, 900])

    off()
    await store.close()
  })

  it('a block no slice accepts is refused STORE_UNHANDLED', async () => {
    const store = clockStore(new FakeClock(1000))
    await store.load()
    const err = await store
      .dispatch(new Author().append('chat', { text: 'hi' }, 1), { loud: true })
      .catch((e: unknown) => e)
    expect((err as StoreError).code).toBe('STORE_UNHANDLED')
    expect(store.state.clock).toBe(0)
    await store.close()
  })

  it('slice state and held blocks survive a reload', async () => {
    const clock = new FakeClock(1000)
    const store = clockStore(clock)
    await store.load()
    const alice = new Author()
    await store.dispatch(alice.append('tick', { time: 10 }, 10))
    await store.dispatch(alice.append('tick', { time: 20 }, 20))
    await store.reload()
    expect(store.state.clock).toBe(20)
    await store.close()
  })

  it('registration errors are STORE_INVALID_SLICE', async () => {
    const store = clockStore(new FakeClock())
    const codeOf = (fn: () => unknown) => {
      try {
        fn()
      } catch (err) {
        return (err as StoreError).code
      }
    }
    expect(codeOf(() => store.register({ name: 'clock', initialValue: 0, reducer: () => 0 }))).toBe(
      'STORE_INVALID_SLICE',
    )
    expect(codeOf(() => store.register({ name: '', initialValue: 0, reducer: () => 0 }))).toBe(
      'STORE_INVALID_SLICE',
    )
    expect(codeOf(() => store.on('nope', () => undefined))).toBe('STORE_INVALID_SLICE')
    await store.load()
    expect(codeOf(() => store.register({ name: 'late', initialValue: 0, reducer: () => 0 }))).toBe(
      'STORE_INVALID_SLICE',
    )
    await store.close()
    const err = await store.dispatch(new Author().append('tick', {}, 1)).catch((e: unknown) => e)
    expect((err as StoreError).code).toBe('STORE_CLOSED')
  })
})
