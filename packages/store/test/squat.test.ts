import { type Feed, toHex } from '@picostack/feed'
import { describe, expect, it } from 'vitest'
import { type BlockContext, Memory, Store } from '../src/index.ts'
import { Author, FakeClock, heldIds, memoryDb } from './helpers.ts'

/** Any author may write any note (no ownership rule): what a squatter would love. */
class Notes extends Memory<string | undefined> {
  override idOf({ payload }: BlockContext) {
    return payload.id
  }
  compute(_: string | undefined, { payload }: BlockContext) {
    return payload.text as string
  }
}

/** One running sum per author (the default `idOf`): every block of an author backs it. */
class Sums extends Memory<number> {
  override initialValue = 0
  compute(sum: number, { payload }: BlockContext) {
    return sum + (payload.n as number)
  }
}

function open(db = memoryDb()): Store {
  const store = new Store(db, { clock: new FakeClock() })
  store.register('notes', Notes)
  store.register<string[]>({
    name: 'texts',
    initialValue: [],
    filter: ({ type }) => type !== 'notes',
    reducer: ({ state, payload }) => [...state, payload.text].sort(),
  })
  return store
}

function idsOf(feed: Feed): string[] {
  return feed.blocks.map((b) => toHex(b.sig)).sort()
}

describe('chain-id squatting', () => {
  for (const height of [1, 2, 3, 1_000, 4_000_000_000]) {
    it(`a forged-parent block claiming a real chain's id (height ${height}) gives way to the genuine genesis`, async () => {
      const db = memoryDb()
      const store = open(db)
      await store.load()
      const alice = new Author()
      alice.append('notes', { id: 'n', text: 'hello' }, 1)
      alice.append('notes', { id: 'm', text: 'world' }, 2)
      const genuine = alice.feed
      const chainId = genuine.first!.sig
      const mallory = new Author()
      mallory.append('notes', { id: 'x', text: 'unseen' }, 1)
      const squat = mallory.append('notes', { id: 'n', text: 'evil' }, 2)
      const first = await store.apply(squat, { chainId, height })
      expect(first.merged).toHaveLength(1) // a claim is taken as a hint...
      expect(store.state.notes).toEqual({ n: 'evil' })
      expect((await store.repo.summary(chainId))?.proven).toBe(false)

      // ...until the genuine chain arrives: it wins, the squat and its state are gone.
      const result = await store.apply(genuine, { chainId, height: 1 })
      expect(result.refusal).toBeUndefined()
      expect(result.merged).toHaveLength(2)
      expect(store.state.notes).toEqual({ n: 'hello', m: 'world' })
      expect(store.state.texts).toEqual(['hello', 'world'])
      expect(await heldIds(store)).toEqual(idsOf(genuine))
      expect(await store.repo.summary(chainId)).toMatchObject({
        height: 2,
        length: 2,
        proven: true,
      })
      // The squatter cannot come back under the same id, nor re-claim it.
      expect((await store.apply(squat, { chainId, height })).merged).toHaveLength(0)
      expect(store.state.notes).toEqual({ n: 'hello', m: 'world' })

      // A restart reads the same state.
      await store.close()
      await db.open() // memory-level keeps its data across close and open
      const again = open(db)
      await again.load()
      expect(again.state.notes).toEqual({ n: 'hello', m: 'world' })
      expect(again.state.texts).toEqual(['hello', 'world'])
      await again.close()
    })
  }

  it('an object also backed by another chain is recomputed from the blocks that stay', async () => {
    const store = open()
    await store.load()
    const alice = new Author()
    alice.append('notes', { id: 'a', text: 'alice' }, 1)
    const bob = new Author()
    await store.dispatch(bob.append('notes', { id: 'n', text: 'bob' }, 1), { loud: true })
    const mallory = new Author()
    mallory.append('notes', { id: 'x', text: 'unseen' }, 1)
    const squat = mallory.append('notes', { id: 'n', text: 'evil' }, 2)
    await store.apply(squat, { chainId: alice.feed.first!.sig, height: 7 })
    expect(store.state.notes).toEqual({ n: 'evil' })
    await store.dispatch(alice.feed, { loud: true })
    expect(store.state.notes).toEqual({ n: 'bob', a: 'alice' })
    expect(store.state.texts).toEqual(['alice', 'bob'])
    await store.close()
  })
  it("a tail claimed under another chain's id never costs the genuine chain its blocks", async () => {
    // The tail's object (one per author) is also backed by the genuine chain it belongs to:
    // when its parent arrives, the claim is dropped and the state replayed; the genuine
    // chain stays whole (it used to be evicted as backing nothing before the replay).
    const store = new Store(memoryDb(), { clock: new FakeClock() })
    store.register('sums', Sums)
    await store.load()
    const alice = new Author()
    const genesis = alice.append('sums', { n: 1 }, 1)
    const second = alice.append('sums', { n: 2 }, 2)
    const tail = alice.append('sums', { n: 3 }, 3)
    const other = new Author().append('sums', { n: 1 }, 1)
    expect((await store.apply(tail, { chainId: other.first!.sig, height: 3 })).merged).toHaveLength(
      1,
    )
    await store.dispatch(genesis, { loud: true })
    await store.dispatch(second, { loud: true })
    expect((await store.repo.summary(genesis.first!.sig))?.height).toBe(3)
    expect(await heldIds(store)).toEqual(idsOf(alice.feed))
    expect(store.state.sums).toEqual({ [alice.pk]: 6 })
    await store.close()
  })
})
