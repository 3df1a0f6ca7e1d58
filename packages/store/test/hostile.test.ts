import { Feed } from '@picostack/feed'
import { encode } from 'cborg'
import { describe, expect, it } from 'vitest'
import { encodeBlock, Memory, Store, type StoreError } from '../src/index.ts'
import { Author, FakeClock, memoryDb } from './helpers.ts'

class Echo extends Memory<unknown> {
  compute(_: unknown, { payload }: { payload: { boom?: boolean; value: unknown } }) {
    if (payload.boom) throw new Error('kaboom')
    return payload.value
  }
}

async function setup() {
  const store = new Store(memoryDb(), { clock: new FakeClock() })
  const echo = store.register('echo', Echo)
  store.register<number>({
    name: 'sum',
    initialValue: 0,
    filter: ({ type }) => type !== 'add',
    reducer: ({ state, payload }) => {
      if (payload.n < 0) throw new Error('negative')
      return state + payload.n
    },
  })
  await store.load()
  return { store, echo }
}

async function refusal(store: Store, patch: Feed | Uint8Array): Promise<StoreError> {
  const quiet = await store.dispatch(patch)
  expect(quiet).toBeUndefined()
  return (await store.dispatch(patch, { loud: true }).catch((e) => e)) as StoreError
}

describe('hostile input', () => {
  it('each bad block gives a typed refusal, changes nothing, and the store keeps working', async () => {
    const { store, echo } = await setup()
    const mallory = new Author()
    const raw = (body: Uint8Array) => {
      mallory.branch().feed.append(body, mallory.sk)
      return mallory.feed.slice(-1)
    }
    expect((await refusal(store, raw(new TextEncoder().encode('not cbor at all')))).code).toBe(
      'STORE_DECODE',
    )
    expect((await refusal(store, raw(encode({ type: 'echo' })))).code).toBe('STORE_DECODE')
    expect((await refusal(store, raw(encode(['echo', 1])))).code).toBe('STORE_DECODE')
    expect((await refusal(store, raw(encodeBlock('nobody', { x: 1 })))).code).toBe(
      'STORE_UNHANDLED',
    )
    const boom = await refusal(store, raw(encodeBlock('echo', { boom: true })))
    expect(boom.code).toBe('STORE_REDUCER')
    expect(boom.reason).toContain('kaboom')
    expect((await refusal(store, raw(encodeBlock('add', { n: -1 })))).code).toBe('STORE_REDUCER')

    // bytes that are not a feed, a forged signature, an oversized body
    expect((await refusal(store, new Uint8Array([1, 2, 3]))).code).toBe('STORE_INVALID_PATCH')
    const forged = raw(encodeBlock('echo', { value: 1 })).buffer.slice()
    forged[10] = forged[10]! ^ 0xff
    expect((await refusal(store, forged)).code).toBe('STORE_INVALID_PATCH')
    const huge = new Feed({ limits: { maxBodyBytes: 1 << 24, maxFeedBytes: 1 << 25 } })
    huge.append(encodeBlock('echo', { value: new Uint8Array(1 << 21) }), mallory.sk)
    expect((await refusal(store, huge.buffer)).code).toBe('STORE_INVALID_PATCH')

    // a refused block stops the rest of its patch; the valid prefix merges
    const alice = new Author()
    alice.append('add', { n: 2 }, 1)
    alice.append('add', { n: -5 }, 2)
    alice.append('add', { n: 3 }, 3)
    const merged = await store.dispatch(alice.feed)
    expect(merged?.length).toBe(1)
    expect(store.state.sum).toBe(2)
    expect({ ...echo.state }).toEqual({})
    expect((await store.repo.listFeeds()).length).toBe(1)

    // still works
    const bob = new Author()
    await store.dispatch(bob.append('echo', { value: 'ok' }, 4), { loud: true })
    expect(echo.readState(bob.pk)).toBe('ok')
    await store.close()
  })

  it('a block the repo refuses (foreign append) rolls the state back', async () => {
    const { store, echo } = await setup()
    const alice = new Author()
    const mallory = new Author()
    await store.dispatch(alice.append('echo', { value: 'a' }, 1), { loud: true })
    // mallory appends to alice's chain: filters accept it, the repo's strategy does not
    mallory.feed = alice.feed.clone()
    const foreign = mallory.append('echo', { value: 'm' }, 2)
    const err = (await store.dispatch(foreign, { loud: true }).catch((e) => e)) as StoreError
    expect(err.code).toBe('STORE_WRITE')
    expect({ ...echo.state }).toEqual({ [alice.pk]: 'a' })
    await store.reload()
    expect({ ...echo.state }).toEqual({ [alice.pk]: 'a' })
    await store.close()
  })
})

describe('locks', () => {
  it('two stores in one process never wait for each other', async () => {
    let release: () => void = () => undefined
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const slow = new Store(memoryDb(), { clock: new FakeClock() })
    slow.register({
      name: 'slow',
      initialValue: 0,
      filter: async () => {
        await gate
        return false
      },
      reducer: ({ state }) => state + 1,
    })
    const fast = new Store(memoryDb(), { clock: new FakeClock() })
    fast.register({ name: 'fast', initialValue: 0, reducer: ({ state }) => state + 1 })
    await Promise.all([slow.load(), fast.load()])
    const author = new Author()
    const block = author.append('x', {}, 1)
    const pending = slow.dispatch(block)
    await fast.dispatch(block) // completes while `slow` is still blocked
    expect(fast.state.fast).toBe(1)
    expect(slow.state.slow).toBe(0)
    release()
    await pending
    expect(slow.state.slow).toBe(1)
    await Promise.all([slow.close(), fast.close()])
  })
})
