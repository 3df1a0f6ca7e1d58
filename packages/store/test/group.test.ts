import { Feed, type FeedLike, toHex } from '@picostack/feed'
import { Repo } from '@picostack/repo'
import { describe, expect, it } from 'vitest'
import { spyBatches } from '../../repo/test/db-spy.ts'
import {
  type ComputeContext,
  type DispatchResult,
  encodeBlock,
  Memory,
  Store,
} from '../src/index.ts'
import { Author, FakeClock, forge, heldIds, memoryDb } from './helpers.ts'

/**
 * One object per chain: the sum of its blocks' `n`; a negative `n` is refused, and so is a
 * block whose parent the context does not give (every parent here is held).
 */
class Sums extends Memory<number> {
  override initialValue = 0
  override idOf({ CHAIN }: { CHAIN: string }) {
    return CHAIN
  }
  compute(value: number, { payload, reject, genesis, parentBlock }: ComputeContext<number>) {
    if (payload.n < 0) return reject('negative')
    if (!genesis && !parentBlock) return reject('no parent block')
    return value + payload.n
  }
}

/**
 * A store on `db` with a `total` slice and an `add` collection over `add` blocks; `calls`
 * records every observer call (slice values and collection changes), in order.
 */
async function open(db = memoryDb()) {
  const store = new Store(new Repo(db), { clock: new FakeClock() })
  const calls: unknown[] = []
  store.register<number>({
    name: 'total',
    initialValue: 0,
    filter: ({ type, payload }) => type !== 'add' || (payload.n === 13 ? 'unlucky' : undefined),
    reducer: ({ state, payload }) => state + payload.n,
  })
  const sums = store.register('add', Sums)
  await store.load()
  store.on('total', (value) => calls.push(['total', value]))
  sums.onChange(({ id, value }) => calls.push(['add', id.slice(0, 8), value]))
  return { db, store, calls }
}

/** What a result says, comparable: merged ids, the chain, the refusal's code. */
function said(result: DispatchResult) {
  return {
    merged: result.merged.map((b) => toHex(b.sig)),
    chainId: result.chainId && toHex(result.chainId),
    code: result.refusal?.code,
  }
}

/** A one-block chain of a new author: `add n`. */
function genesis(n: number): Feed {
  return new Author().append('add', { n }, n + 1)
}

/**
 * Patches of every kind: one-block chains, one refused by a slice filter and one by the
 * collection, a forged one, an orphan whose parent comes later (it joins it from the
 * mempool), a chain extended by a later patch, a resent patch, and a chain whose second
 * block another author appended (the repo's strategy refuses it: the repo writes part of
 * the patch).
 */
function mixed(): FeedLike[] {
  const patches: FeedLike[] = []
  for (let n = 0; n < 8; n++) patches.push(genesis(n))
  patches.push(genesis(13)) // refused by the slice filter
  patches.push(genesis(-1)) // refused by the collection
  const forged = new Author()
  forged.append('add', { n: 5 }, 1)
  patches.push(forge(forged.feed, 0))
  const late = new Author()
  const first = late.append('add', { n: 1 }, 1)
  const second = late.append('add', { n: 2 }, 2)
  patches.push(second) // its parent is not there yet: the mempool
  for (let n = 20; n < 24; n++) patches.push(genesis(n))
  patches.push(first) // the parent: the orphan joins it
  const grown = new Author()
  const g1 = grown.append('add', { n: 3 }, 1)
  patches.push(g1, grown.append('add', { n: 4 }, 2), g1) // extended, then resent
  const a = new Author()
  const b = new Author()
  const foreign = new Feed()
  foreign.append(encodeBlock('add', { n: 7 }, 1), a.sk)
  foreign.append(encodeBlock('add', { n: 8 }, 2), b.sk)
  patches.push(foreign) // the repo stops at b's block
  for (let n = 30; n < 34; n++) patches.push(genesis(n))
  return patches
}

/** The state, the observer calls and the held blocks of `store`, comparable. */
async function stateOf(store: Store) {
  return { state: JSON.parse(JSON.stringify(store.state)), held: await heldIds(store) }
}

/** The same patches one by one into a store, and at once into another: both end alike. */
async function compare(patches: FeedLike[]) {
  const alone = await open()
  const one: ReturnType<typeof said>[] = []
  for (const patch of patches) one.push(said(await alone.store.apply(patch)))
  const grouped = await open()
  const all = (await Promise.all(patches.map((p) => grouped.store.apply(p)))).map(said)
  expect(all).toEqual(one)
  expect(grouped.calls).toEqual(alone.calls)
  expect(await stateOf(grouped.store)).toEqual(await stateOf(alone.store))
  return { alone, grouped, results: all }
}

describe('group commit', () => {
  it('gives each patch of a group the result, state and observer calls of one by one', async () => {
    const { alone, grouped, results } = await compare(mixed())
    const codes = results.map((r) => r.code)
    expect(codes).toContain('STORE_REJECTED')
    expect(codes).toContain('STORE_INVALID_PATCH')
    expect(codes).toContain('STORE_POSTPONED')
    expect(codes).toContain('STORE_WRITE')
    // A store restarted after the group reads back exactly the same state.
    await grouped.store.close()
    const reopened = await open(grouped.db)
    expect(await stateOf(reopened.store)).toEqual(await stateOf(alone.store))
    expect(await reopened.store.repo.listFeeds()).toEqual(await alone.store.repo.listFeeds())
  })

  it('writes 64 concurrent one-block patches in far fewer than 64 database batches', async () => {
    const { db, store } = await open()
    const patches = Array.from({ length: 64 }, (_, n) => genesis(n + 100))
    const batches = spyBatches(db)
    const results = await Promise.all(patches.map((p) => store.apply(p)))
    batches.restore()
    expect(results.every((r) => r.merged.length === 1)).toBe(true)
    expect(batches.count).toBeLessThanOrEqual(2)
    expect(store.state.total).toBe(64 * 100 + (63 * 64) / 2)
  })

  it('keeps call order with other operations: a patch after gc() is applied after it', async () => {
    const { store } = await open()
    const order: string[] = []
    const a = store.apply(genesis(1)).then(() => order.push('a'))
    const gc = store.gc().then(() => order.push('gc'))
    const b = store.apply(genesis(2)).then(() => order.push('b'))
    await Promise.all([a, gc, b])
    expect(order).toEqual(['a', 'gc', 'b'])
  })

  it('a database that fails every batch refuses each patch of a group as it would alone', async () => {
    const patches = Array.from({ length: 6 }, (_, n) => genesis(n))
    const failing = async () => {
      const opened = await open()
      const spy = spyBatches(opened.db, () => new Error('disk on fire'))
      return { ...opened, spy }
    }
    const alone = await failing()
    const one: ReturnType<typeof said>[] = []
    for (const patch of patches) one.push(said(await alone.store.apply(patch)))
    const grouped = await failing()
    const all = (await Promise.all(patches.map((p) => grouped.store.apply(p)))).map(said)
    expect(all).toEqual(one)
    expect(all.every((r) => r.code === 'STORE_WRITE')).toBe(true)
    grouped.spy.restore()
    expect(await stateOf(grouped.store)).toEqual(await stateOf(alone.store))
    expect(grouped.store.state.total).toBe(0)
  })

  it('a batch that fails once is the first patch’s alone: the others are written after it', async () => {
    const { db, store } = await open()
    const spy = spyBatches(db, (n) => (n === 1 ? new Error('once') : undefined))
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, n) => store.apply(genesis(n + 1))),
    )
    spy.restore()
    // The group's batch failed: the first patch was tried alone (and written), then the rest.
    expect(results.map((r) => r.merged.length)).toEqual([1, 1, 1, 1, 1])
    expect(store.state.total).toBe(15)
    await store.close()
    const reopened = await open(db)
    expect(reopened.store.state.total).toBe(15)
  })
})
