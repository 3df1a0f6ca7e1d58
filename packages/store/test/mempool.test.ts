import { Feed } from '@picostack/feed'
import { Repo } from '@picostack/repo'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type ComputeContext, Memory, Store, type StoreError } from '../src/index.ts'
import { Author, FakeClock, memoryDb } from './helpers.ts'

/** A counter per author that must grow by exactly one per block (order-sensitive). */
class Counters extends Memory<number> {
  override initialValue = 0
  compute(value: number, { payload, reject }: ComputeContext<number>) {
    if (payload.n !== value + 1) return reject(`expected ${value + 1}, got ${payload.n}`)
    return payload.n
  }
}

function open(clock = new FakeClock(), mempool?: { maxBlocks?: number; ttlMs?: number }) {
  const repo = new Repo(memoryDb())
  const store = new Store(repo, { clock, mempool })
  const counters = store.register('count', Counters)
  return { store, counters, repo, clock }
}

/** Blocks waiting in the store's mempool (read from its registry). */
async function mempoolSize(repo: Repo): Promise<number> {
  let n = 0
  for await (const [key] of repo.registry('store').entries()) if (key[0] === 0x6d) n++
  return n
}

describe('out-of-order delivery', () => {
  it('any permutation of a feed ends in the in-order state with an empty mempool', async () => {
    const alice = new Author()
    for (let i = 1; i <= 6; i++) alice.append('count', { n: i }, i)
    const blocks = alice.feed.blocks
    await fc.assert(
      fc.asyncProperty(fc.shuffledSubarray([...blocks.keys()], { minLength: 6 }), async (order) => {
        const { store, counters, repo } = open()
        await store.load()
        for (const i of order) await store.dispatch(Feed.from([blocks[i]!]))
        expect(counters.readState(alice.pk)).toBe(6)
        expect(await mempoolSize(repo)).toBe(0)
        await store.close()
      }),
      { numRuns: 40 },
    )
  })

  it('an orphan waits (loud: STORE_POSTPONED), survives a restart, and is bounded', async () => {
    const db = memoryDb()
    const clock = new FakeClock()
    const alice = new Author()
    for (let i = 1; i <= 5; i++) alice.append('count', { n: i }, i)
    const [b1, b2, b3, b4, b5] = alice.feed.blocks
    let store = new Store(new Repo(db), { clock, mempool: { maxBlocks: 2 } })
    store.register('count', Counters)
    await store.load()
    const err = (await store.dispatch(b3!, { loud: true }).catch((e) => e)) as StoreError
    expect(err.code).toBe('STORE_POSTPONED')
    await store.dispatch(b4!)
    await store.dispatch(b5!) // the limit is 2: b3, the oldest, is dropped
    expect(await mempoolSize(store.repo)).toBe(2)
    await store.close()

    store = new Store(new Repo(db), { clock, mempool: { maxBlocks: 2 } })
    const counters = store.register('count', Counters)
    await store.load()
    await store.dispatch(Feed.from([b1!, b2!]))
    expect(counters.readState(alice.pk)).toBe(2) // b3 was dropped, so b4 and b5 still wait
    await store.dispatch(b3!)
    expect(counters.readState(alice.pk)).toBe(5)
    expect(await mempoolSize(store.repo)).toBe(0)
    await store.close()
  })

  it('mempool blocks expire after ttlMs on the store timer', async () => {
    const { store, repo, clock } = open(new FakeClock(), { ttlMs: 1000 })
    await store.load()
    const alice = new Author()
    alice.append('count', { n: 1 }, 1)
    alice.append('count', { n: 2 }, 2)
    await store.dispatch(alice.feed.slice(1))
    expect(await mempoolSize(repo)).toBe(1)
    await clock.advanceTo(clock.now() + 1000, store)
    expect(await mempoolSize(repo)).toBe(0)
    await store.close()
  })

  it('postponed blocks are retried on the timer and applied once they can be', async () => {
    const clock = new FakeClock()
    const store = new Store(new Repo(memoryDb()), { clock })
    /** A like is valid only once the liked post is known: postpone until then. */
    class Posts extends Memory<{ likes: number } | undefined> {
      override idOf({ payload }: { payload: { id: string } }) {
        return payload.id
      }
      compute() {
        return { likes: 0 }
      }
    }
    class Likes extends Memory<number> {
      override initialValue = 0
      override idOf({ payload }: { payload: { post: string } }) {
        return payload.post
      }
      compute(likes: number, { payload, root, postpone }: ComputeContext<number>) {
        const posts = root.posts as Record<string, unknown>
        if (!posts[payload.post]) return postpone(500, 'post not here yet', 2)
        return likes + 1
      }
    }
    store.register('posts', Posts)
    const likes = store.register('likes', Likes)
    await store.load()
    const alice = new Author()
    const bob = new Author()
    const like = bob.append('likes', { post: 'p1' }, 1)
    const err = (await store.dispatch(like, { loud: true }).catch((e) => e)) as StoreError
    expect(err.code).toBe('STORE_POSTPONED')
    expect(err.reason).toBe('post not here yet')
    await clock.advanceTo(clock.now() + 500, store) // retry 1: still no post
    expect(likes.readState('p1')).toBe(0)
    await store.dispatch(alice.append('posts', { id: 'p1' }, 2))
    await clock.advanceTo(clock.now() + 500, store) // retry 2 succeeds
    expect(likes.readState('p1')).toBe(1)
    expect(await mempoolSize(store.repo)).toBe(0)

    const orphanLike = bob.append('likes', { post: 'p2' }, 3)
    await store.dispatch(orphanLike)
    await clock.advanceTo(clock.now() + 500, store)
    await clock.advanceTo(clock.now() + 500, store)
    await clock.advanceTo(clock.now() + 500, store) // retries exhausted: dropped
    expect(await mempoolSize(store.repo)).toBe(0)
    expect(likes.hasState('p2')).toBe(false)
    await store.close()
  })
})
