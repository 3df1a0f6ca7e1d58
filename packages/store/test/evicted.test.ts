import { type Feed, toHex } from '@picostack/feed'
import { type MergeStrategy, Repo } from '@picostack/repo'
import { describe, expect, it } from 'vitest'
import { type ComputeContext, Memory, Store } from '../src/index.ts'
import { Author, disagreements, FakeClock, memoryDb } from './helpers.ts'

interface Item {
  n: number
  expiresAt: number
}

/** One object per chain: its newest block's `n`, for `ttl` ms from that block's date. */
class Items extends Memory<Item> {
  override idOf({ CHAIN }: { CHAIN: string }) {
    return CHAIN
  }
  compute(_: Item, { payload, date }: ComputeContext<Item>) {
    return { n: payload.n, expiresAt: date + payload.ttl }
  }
  override expiresAt(item: Item) {
    return item.expiresAt
  }
}

/** A store with `item`s and a `pings` slice (each ping kept `ttl` ms from its block's date). */
function open(clock: FakeClock, repo = new Repo(memoryDb()), strategy?: MergeStrategy): Store {
  const store = new Store(repo, { clock, strategy })
  store.register('item', Items)
  store.register<number[]>({
    name: 'pings',
    initialValue: [],
    filter: ({ type }) => type !== 'ping',
    reducer: ({ state, payload }) => [...state, payload.n].sort((a, b) => a - b),
    expiresAt: ({ date, payload }) => date + payload.ttl,
  })
  return store
}

describe('a block of an evicted prefix sent again', () => {
  it('a genesis whose chain lost it is refused though it would back state again', async () => {
    const clock = new FakeClock(1_000_000)
    let store = open(clock)
    await store.load()
    const author = new Author()
    // The chain's item lives as long as its newest block says: the second block cuts it
    // short, so the two back nothing once it expires; the ping keeps the chain.
    const genesis = author.append('item', { n: 0, ttl: 3000 }, clock.now())
    const second = author.append('item', { n: 1, ttl: 10 }, clock.now())
    const third = author.append('ping', { n: 2, ttl: 3000 }, clock.now())
    for (const patch of [genesis, second, third]) await store.dispatch(patch)
    await clock.advanceTo(clock.now() + 20, store)
    expect(store.state).toEqual({ item: {}, pings: [2] })
    const chainId = genesis.first!.sig
    expect(await store.repo.summary(chainId)).toMatchObject({ length: 1 })
    expect(await disagreements(store)).toEqual([])

    // Sent again alone, it would make the item anew (a store fed it alone would hold
    // it), but the repo keeps an evicted prefix out: so does the store. With the second
    // block, the item it makes is expired.
    for (const [patch, code] of [
      [genesis, 'STORE_WRITE'],
      [author.feed, 'STORE_EXPIRED'],
    ] as const) {
      const result = await store.apply(patch)
      expect(result.merged).toHaveLength(0)
      expect(result.refusal?.code).toBe(code)
    }
    expect(await store.repo.hasBlock(chainId)).toBe(false)
    expect(store.state).toEqual({ item: {}, pings: [2] })
    expect(await disagreements(store)).toEqual([])

    await store.close()
    store = open(clock, store.repo)
    await store.load()
    expect(store.state).toEqual({ item: {}, pings: [2] })
    await clock.advanceTo(clock.now() + 3000, store)
    expect(store.state).toEqual({ item: {}, pings: [] })
    expect(await store.repo.summary(chainId)).toBeUndefined()
    expect(await disagreements(store)).toEqual([])
    // The chain gone whole, its genesis would start it again, but it is expired by now.
    expect((await store.apply(genesis)).refusal?.code).toBe('STORE_EXPIRED')
    await store.close()
  })

  // A block held in a partial chain under an id no genesis has leaves that chain when its
  // parent arrives and joins the parent's (joins.ts), as in a store fed the blocks in order.
  it('a block claimed under a hostile id joins its chain once its parent arrives', async () => {
    const clock = new FakeClock(1_000_000)
    const store = open(clock)
    await store.load()
    const author = new Author()
    const genesis = author.append('item', { n: 0, ttl: 1000 }, clock.now())
    const second = author.append('item', { n: 1, ttl: 1000 }, clock.now())
    // The second block, as a partial chain under its own id (any id but its chain's).
    expect((await store.apply(second, { chainId: second.first!.sig })).merged).toHaveLength(1)
    expect((await store.apply(genesis)).merged).toHaveLength(1)
    expect(await disagreements(store)).toEqual([])
    const chainKey = toHex(genesis.first!.sig)
    expect(store.state).toEqual({ item: { [chainKey]: { n: 1, expiresAt: 1_001_000 } }, pings: [] })
    await store.close()
  })

  it('a fork the strategy lets in: the blocks the repo evicted for it are held no more', async () => {
    const clock = new FakeClock(1_000_000)
    let store = open(clock, undefined, () => true)
    await store.load()
    const author = new Author()
    author.append('ping', { n: 0, ttl: 1000 }, clock.now())
    author.append('ping', { n: 1, ttl: 1000 }, clock.now())
    for (const patch of [
      author.feed.slice(0, 2),
      author.append('ping', { n: 2, ttl: 1000 }, clock.now()),
    ]) {
      await store.dispatch(patch)
    }
    const chainId = author.feed.first!.sig
    // The owner forks after the second block: the repo evicts the third.
    author.feed = author.feed.slice(0, 2) as Feed
    const fork = author.append('ping', { n: 3, ttl: 1000 }, clock.now())
    expect((await store.apply(fork)).merged).toHaveLength(1)
    expect(await store.repo.summary(chainId)).toMatchObject({ length: 3 })
    expect(store.state).toEqual({ item: {}, pings: [0, 1, 3] })
    expect(await disagreements(store)).toEqual([])
    await store.close()
    store = open(clock, store.repo, () => true)
    await store.load()
    expect(store.state).toEqual({ item: {}, pings: [0, 1, 3] })
    await clock.advanceTo(clock.now() + 2000, store)
    expect(store.state).toEqual({ item: {}, pings: [] })
    expect(await store.repo.listFeeds()).toEqual([])
    expect(await disagreements(store)).toEqual([])
    await store.close()
  })
})
