import { Repo } from '@picostack/repo'
import { describe, expect, it } from 'vitest'
import { groupSyncReads } from '../../repo/test/db-spy.ts'
import { type ComputeContext, Memory, Store } from '../src/index.ts'
import { Author, FakeClock, memoryDb } from './helpers.ts'

/** One object per chain (`idOf` CHAIN, as the to-do app's tasks). */
class Chains extends Memory<number> {
  override initialValue = 0
  override idOf({ CHAIN }: { CHAIN: string }) {
    return CHAIN
  }
  compute(value: number, { payload }: ComputeContext<number>) {
    return value + payload.n
  }
}

/** One object per author (the default `idOf`). */
class Authors extends Memory<number> {
  override initialValue = 0
  compute(value: number, { payload }: ComputeContext<number>) {
    return value + payload.n
  }
}

/** Tags of the store's registry keys each database read asked for (a range read: `*tag`). */
function spyReads(db: ReturnType<typeof memoryDb>): string[][] {
  const reads: string[][] = []
  const registry = (k: Uint8Array) => k[0] === 0x07
  const tagOf = (k: Uint8Array) => String.fromCharCode(k[2 + k[1]!]!)
  const { getMany, get, iterator } = db
  db.getMany = ((keys: Uint8Array[], ...rest: unknown[]) => {
    const mine = keys.filter(registry)
    if (mine.length > 0) reads.push(mine.map(tagOf))
    return (getMany as (...args: unknown[]) => unknown).call(db, keys, ...rest)
  }) as typeof db.getMany
  db.get = ((k: Uint8Array, ...rest: unknown[]) => {
    if (registry(k)) reads.push([tagOf(k)])
    return (get as (...args: unknown[]) => unknown).call(db, k, ...rest)
  }) as typeof db.get
  groupSyncReads(db, (keys) => {
    const mine = keys.filter(registry)
    if (mine.length > 0) reads.push(mine.map(tagOf))
  })
  db.iterator = ((options: { gte?: Uint8Array }, ...rest: unknown[]) => {
    if (options?.gte && registry(options.gte)) reads.push([`*${tagOf(options.gte)}`])
    return (iterator as (...args: unknown[]) => unknown).call(db, options, ...rest)
  }) as typeof db.iterator
  return reads
}

describe('reads per dispatch', () => {
  it('a new chain creating its own object reads the registry once: held record, object, tombstone (no claim names it)', async () => {
    const db = memoryDb()
    const store = new Store(new Repo(db), { clock: new FakeClock() })
    store.register('chains', Chains)
    store.register('authors', Authors)
    await store.load()
    const reads = spyReads(db)
    await store.dispatch(new Author().append('chains', { n: 1 }, 1), { loud: true })
    expect(reads).toEqual([['h', 'o', 'd']])
    // An object whose id is not the genesis's: the guess is read, then the object.
    reads.length = 0
    await store.dispatch(new Author().append('authors', { n: 1 }, 1), { loud: true })
    expect(reads).toEqual([
      ['h', 'o', 'd'],
      ['o', 'd'],
    ])
    await store.close()
  })

  it("a chain's next block reads its object with its held record; backed by its own block alone, with no range read", async () => {
    const db = memoryDb()
    const store = new Store(new Repo(db), { clock: new FakeClock(), cacheObjects: 1 })
    store.register('chains', Chains)
    await store.load()
    const first = new Author()
    await store.dispatch(first.append('chains', { n: 1 }, 1), { loud: true })
    await store.dispatch(new Author().append('chains', { n: 1 }, 1), { loud: true }) // evicts it
    const reads = spyReads(db)
    await store.dispatch(first.append('chains', { n: 2 }, 2), { loud: true })
    // Its parent's record is cached: the object of its chain is read with the block's.
    expect(reads).toEqual([['h', 'o', 'd']])
    reads.length = 0
    await store.dispatch(new Author().append('chains', { n: 1 }, 1), { loud: true }) // evicts it
    reads.length = 0
    await store.dispatch(first.append('chains', { n: 3 }, 3), { loud: true })
    // Backed by another block too now: its `b` keys are read.
    expect(reads).toEqual([['h', 'o', 'd'], ['*b']])
    await store.close()
  })

  it('reads the claim keys of the ids a partial chain named, and of those only, also after a load', async () => {
    const db = memoryDb()
    const clock = new FakeClock()
    const open = async () => {
      const store = new Store(new Repo(db), { clock })
      store.register('chains', Chains)
      await store.load()
      return store
    }
    let store = await open()
    const author = new Author()
    const genesis = author.append('chains', { n: 1 }, 1)
    const second = author.append('chains', { n: 2 }, 2)
    const tail = author.append('chains', { n: 3 }, 3)
    // The tail alone, claimed under the id of another chain's genesis: a partial chain
    // after `second`.
    const other = new Author().append('chains', { n: 1 }, 1)
    const chainId = other.first!.sig
    expect((await store.apply(tail, { chainId, height: 3 })).merged).toHaveLength(1)
    await store.close()
    store = await open()
    const reads = spyReads(db)
    await store.dispatch(genesis, { loud: true })
    expect(reads[0]).toEqual(['h', 'o', 'd'])
    // `second` has partial chains after it (`q`): the tail joins its chain.
    reads.length = 0
    await store.dispatch(second, { loud: true })
    expect(reads[0]).toEqual(['h', 'q'])
    expect((await store.repo.summary(genesis.first!.sig))?.height).toBe(3)
    // The claimed id (`p`; its object is known gone since the claimed chain left).
    reads.length = 0
    await store.dispatch(other, { loud: true })
    expect(reads[0]).toEqual(['h', 'p'])
    await store.close()
  })
})
