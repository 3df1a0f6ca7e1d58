import { type Feed, toHex } from '@picostack/feed'
import { Repo } from '@picostack/repo'
import { decode } from 'cborg'
import { describe, expect, it } from 'vitest'
import { groupSyncReads } from '../../repo/test/db-spy.ts'
import { Store } from '../src/index.ts'
import { Author, disagreements, FakeClock, heldIds, memoryDb } from './helpers.ts'
import { ExpiringNotes } from './notes.ts'

/**
 * Layout 5: a held genesis has no `c` key (its place in its chain is implied); every other
 * held block has one.
 */

const T0 = 1_000_000
const TAG_C = 0x63
const TAG_H = 0x68

function open(clock: FakeClock, repo = new Repo(memoryDb()), maxRepoBytes?: number): Store {
  const store = new Store(repo, { clock, maxRepoBytes })
  store.register('notes', ExpiringNotes)
  return store
}

const hex = (bytes: Uint8Array) => toHex(bytes)

/** The store's registry keys of tag `tag`: [key without the tag, value], hex. */
async function keysOf(store: Store, tag: number): Promise<[string, string][]> {
  const out: [string, string][] = []
  const range = { gte: Uint8Array.of(tag), lt: Uint8Array.of(tag + 1) }
  for await (const [k, v] of store.repo.registry('store').entries(range)) {
    out.push([hex(k.subarray(1)), hex(v)])
  }
  return out
}

/** The `c` key of block `seq` of chain `chainId` (without its tag), hex. */
function place(chainId: Uint8Array, seq: number): string {
  return hex(chainId) + seq.toString(16).padStart(16, '0')
}

/** The chain id an `h` record names (`null` for a genesis). */
async function chainNamed(store: Store, id: Uint8Array): Promise<Uint8Array | null> {
  const value = await store.repo.registry('store').get(Uint8Array.of(TAG_H, ...id))
  return (decode(value!) as [number, Uint8Array | null])[1]
}

/** The keys (hex) each point read of `db` asks for, in order. */
function spyKeys(db: ReturnType<typeof memoryDb>): string[] {
  const read: string[] = []
  const { getMany, get } = db
  db.getMany = ((keys: Uint8Array[], ...rest: unknown[]) => {
    read.push(...keys.map(hex))
    return (getMany as (...args: unknown[]) => unknown).call(db, keys, ...rest)
  }) as typeof db.getMany
  db.get = ((k: Uint8Array, ...rest: unknown[]) => {
    read.push(hex(k))
    return (get as (...args: unknown[]) => unknown).call(db, k, ...rest)
  }) as typeof db.get
  groupSyncReads(db, (keys) => read.push(...keys.map(hex)))
  return read
}

const note = (author: Author, id: string, ttl: number, date = T0): Feed =>
  author.append('notes', { id, text: id, ttl }, date)

describe('a held genesis has no c key', () => {
  it('a one-block chain writes none, a two-block chain one (its second block, 64 B); a restart and a reload agree', async () => {
    const clock = new FakeClock(T0)
    let store = open(clock)
    await store.load()
    const solo = note(new Author(), 'solo', 5000)
    await store.dispatch(solo, { loud: true })
    expect(await keysOf(store, TAG_C)).toEqual([])
    expect(await chainNamed(store, solo.first!.sig)).toBeNull()

    const alice = new Author()
    const genesis = note(alice, 'a', 5000)
    const second = note(alice, 'b', 5000)
    await store.dispatch(alice.feed, { loud: true })
    // Seqs: the solo genesis 1, alice's genesis 2, her second block 3.
    const chainId = genesis.first!.sig
    expect(await keysOf(store, TAG_C)).toEqual([[place(chainId, 3), hex(second.first!.sig)]])
    expect(await chainNamed(store, second.first!.sig)).toEqual(chainId)
    expect(await disagreements(store)).toEqual([])

    await store.close()
    store = open(clock, store.repo)
    await store.load()
    await store.reload()
    expect(await keysOf(store, TAG_C)).toEqual([[place(chainId, 3), hex(second.first!.sig)]])
    expect(Object.keys(store.state.notes as object).sort()).toEqual(['a', 'b', 'solo'])
    expect(await disagreements(store)).toEqual([])
    await store.close()
  })

  it("a dead prefix is evicted with its genesis, then without it (the genesis gone, the chain's c keys only)", async () => {
    const clock = new FakeClock(T0)
    const db = memoryDb()
    let store = open(clock, new Repo(db))
    await store.load()
    const alice = new Author()
    const patches = [
      note(alice, 'g', 1000),
      note(alice, 'b2', 1000),
      note(alice, 'b3', 2000),
      note(alice, 'b4', 3000),
    ]
    await store.dispatch(alice.feed, { loud: true })
    const [chainId, , b3, b4] = patches.map((patch) => patch.first!.sig) as [
      Uint8Array,
      Uint8Array,
      Uint8Array,
      Uint8Array,
    ]
    expect((await keysOf(store, TAG_C)).map(([k]) => k)).toEqual([
      place(chainId, 2),
      place(chainId, 3),
      place(chainId, 4),
    ])
    // The genesis and b2 back nothing: both go, and b2's c key with it.
    await clock.advanceTo(T0 + 1000, store)
    expect(await heldIds(store)).toEqual([hex(b3), hex(b4)].sort())
    expect(await keysOf(store, TAG_C)).toEqual([
      [place(chainId, 3), hex(b3)],
      [place(chainId, 4), hex(b4)],
    ])
    expect(await disagreements(store)).toEqual([])
    // The chain's oldest block is no genesis now: b3 goes by its c key, and the genesis's
    // `h` key is not looked up (after a restart, nothing is cached).
    await store.close()
    store = open(clock, store.repo)
    await store.load()
    const read = spyKeys(db)
    await clock.advanceTo(T0 + 2000, store)
    expect(read.some((k) => k.endsWith(hex(Uint8Array.of(TAG_H, ...chainId))))).toBe(false)
    expect(read.some((k) => k.endsWith(hex(Uint8Array.of(TAG_H, ...b3))))).toBe(true)
    expect(await heldIds(store)).toEqual([hex(b4)])
    expect(await keysOf(store, TAG_C)).toEqual([[place(chainId, 4), hex(b4)]])
    expect(await disagreements(store)).toEqual([])
    await clock.advanceTo(T0 + 3000, store)
    expect(await heldIds(store)).toEqual([])
    expect(await keysOf(store, TAG_C)).toEqual([])
    expect(await keysOf(store, TAG_H)).toEqual([])
    await store.close()
  })

  it('the budget drops a chain whole with and without its genesis', async () => {
    const clock = new FakeClock(T0)
    let store = open(clock)
    await store.load()
    const alice = new Author()
    const carol = new Author()
    await store.dispatch(note(alice, 'a1', 1000), { loud: true })
    await store.dispatch(note(alice, 'a2', 1000), { loud: true })
    await store.dispatch(note(carol, 'c1', 500), { loud: true })
    const c2 = note(carol, 'c2', 2000)
    await store.dispatch(c2, { loud: true })
    await clock.advanceTo(T0 + 500, store) // carol's genesis goes: c2 holds her chain
    expect((await keysOf(store, TAG_C)).map(([, id]) => id).sort()).toEqual(
      [hex(alice.feed.last!.sig), hex(c2.first!.sig)].sort(),
    )
    await store.close()
    // Room for one block: the chains that expire first (alice's, then carol's) go whole.
    const size = c2.first!.blockSize
    store = open(clock, store.repo, size * 1.5)
    await store.load()
    const bob = note(new Author(), 'b1', 60_000)
    await store.dispatch(bob, { loud: true })
    expect(await heldIds(store)).toEqual([hex(bob.first!.sig)])
    expect(await keysOf(store, TAG_C)).toEqual([])
    expect(await keysOf(store, TAG_H)).toHaveLength(1)
    expect(await disagreements(store)).toEqual([])
    await store.close()
  })

  it('a partial chain claimed under a genesis id leaves for its genesis; the genesis writes no c key', async () => {
    const clock = new FakeClock(T0)
    const store = open(clock)
    await store.load()
    const alice = new Author()
    const genesis = note(alice, 'g', 5000)
    note(alice, 'b2', 5000) // not sent before the genesis
    const partial = note(alice, 'b3', 5000)
    const tail = alice.feed.slice(1)
    const chainId = genesis.first!.sig
    // b3 alone, claimed under the genuine id: a partial chain of chain `chainId`, whose
    // first held block has a c key (it is no genesis).
    expect((await store.apply(partial, { chainId, height: 3 })).merged).toHaveLength(1)
    expect(await keysOf(store, TAG_C)).toEqual([[place(chainId, 1), hex(partial.first!.sig)]])
    expect(await disagreements(store)).toEqual([])
    // The genesis replaces the claim: the partial chain's block and c key go.
    expect((await store.apply(genesis)).merged).toHaveLength(1)
    expect(await keysOf(store, TAG_C)).toEqual([])
    expect(await chainNamed(store, chainId)).toBeNull()
    expect(await disagreements(store)).toEqual([])
    // The rest of the chain follows its genesis, in c keys after it.
    expect((await store.apply(tail)).merged).toHaveLength(2)
    expect((await keysOf(store, TAG_C)).map(([, id]) => id)).toEqual(
      tail.blocks.map((block) => hex(block.sig)),
    )
    expect(await disagreements(store)).toEqual([])
    await store.close()
  })

  it("a partial chain claimed under one of its later blocks' id: that block names its chain and has a c key", async () => {
    const clock = new FakeClock(T0)
    const store = open(clock)
    await store.load()
    const alice = new Author()
    const genesis = note(alice, 'g', 5000)
    note(alice, 'b2', 1000)
    note(alice, 'b3', 3000)
    const run = alice.feed.slice(1) // b2 and b3, their parent unknown to the store
    const [b2, b3] = run.blocks.map((block) => block.sig) as [Uint8Array, Uint8Array]
    // Claimed under b3's id: the chain's id is b3's, yet b3 is not its oldest block.
    expect((await store.apply(run, { chainId: b3 })).merged).toHaveLength(2)
    expect(await chainNamed(store, b3)).toEqual(b3)
    expect(await keysOf(store, TAG_C)).toEqual([
      [place(b3, 1), hex(b2)],
      [place(b3, 2), hex(b3)],
    ])
    expect(await disagreements(store)).toEqual([])
    // b2 dies first: it goes, b3 (live) stays.
    await clock.advanceTo(T0 + 1000, store)
    expect(await heldIds(store)).toEqual([hex(b3)])
    expect(await keysOf(store, TAG_C)).toEqual([[place(b3, 2), hex(b3)]])
    expect(await disagreements(store)).toEqual([])
    // The genesis arrives; b3 stays in the claimed chain (its parent is not held), which
    // goes whole when b3 expires.
    expect((await store.apply(genesis)).merged).toHaveLength(1)
    expect(await store.repo.summary(b3)).toMatchObject({ proven: false, length: 1 })
    expect(await disagreements(store)).toEqual([])
    await clock.advanceTo(T0 + 3000, store)
    expect(await heldIds(store)).toEqual([hex(genesis.first!.sig)])
    expect(await keysOf(store, TAG_C)).toEqual([])
    expect(await disagreements(store)).toEqual([])
    await store.close()
  })
})
