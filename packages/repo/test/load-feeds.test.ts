/**
 * `loadFeeds`: what a sync sends a peer lacking a page of chains, two point reads for a page
 * of short chains instead of two per chain. It must load what `loadFeed` and `summary` give
 * one by one, and check its arguments and the repo's state as they do.
 */
import { type Feed, toHex } from '@picostack/feed'
import { MemoryLevel } from 'memory-level'
import { expect, test } from 'vitest'
import { Repo } from '../src/index.ts'
import { spyReads } from './db-spy.ts'
import { bodies, chain } from './helpers.ts'

async function repoWith(...feeds: Feed[]): Promise<{ db: MemoryLevel; repo: Repo }> {
  const db = new MemoryLevel({ keyEncoding: 'view', valueEncoding: 'view' })
  const repo = new Repo(db)
  for (const feed of feeds) {
    const writes = feed.blocks.map((block) => ({ block }))
    expect(await repo.writeBlocks(writes, { verified: true })).toBe(writes.length)
  }
  return { db, repo }
}

const ids = (feed: Feed | undefined) => feed?.blocks.map((block) => toHex(block.sig))

test('loadFeeds gives each chain its summary and every stored block, in the order asked, as loadFeed does one by one', async () => {
  // One block, a short chain read by key, one of 16 (the last by key), one of 17 and a
  // long one (iterators of their own), a partial chain (a claimed id and height).
  const whole = [1, 3, 16, 17, 40].map((n, i) => chain(`whole${i}`, bodies('b', n)))
  const partial = chain('partial', bodies('p', 5))
  const { repo } = await repoWith(...whole)
  const tail = partial.slice(2)
  const claimed = partial.first!.sig
  await repo.writeBlocks(
    tail.blocks.map((block) => ({ block })),
    { verified: true, chainId: claimed, height: 3 },
  )
  // A chain whose two oldest blocks were evicted: the rest, not a gap.
  const evicted = chain('evicted', bodies('e', 6))
  await repo.writeBlocks(
    evicted.blocks.map((block) => ({ block })),
    { verified: true },
  )
  await repo.evictPrefix(evicted.first!.sig, evicted.blocks[1]!.sig)
  const unknown = chain('unknown', ['u']).first!.sig
  const asked = [...whole.map((f) => f.first!.sig), claimed, unknown, evicted.first!.sig]
  const loaded = await repo.loadFeeds(asked)
  expect(loaded).toHaveLength(asked.length)
  expect(loaded[asked.length - 2]).toBeUndefined()
  for (const [i, chainId] of asked.entries()) {
    const summary = await repo.summary(chainId)
    if (!summary) continue
    const got = loaded[i]!
    expect(got.summary).toEqual(summary)
    expect(ids(got.feed)).toEqual(ids(await repo.loadFeed(summary.headId, summary.length)))
    expect(got.feed.length).toBe(summary.length)
  }
  expect(ids(loaded[0]!.feed)).toEqual(ids(whole[0]))
  expect(ids(loaded[4]!.feed)).toEqual(ids(whole[4]))
  expect(ids(loaded[5]!.feed)).toEqual(ids(tail))
  expect(ids(loaded[7]!.feed)).toEqual(ids(evicted.slice(2)))
  expect(await repo.loadFeeds([])).toEqual([])
  await repo.close()
})

test('loadFeeds reads a page of short chains in two getMany calls, whatever their number', async () => {
  const feeds = Array.from({ length: 40 }, (_, i) => chain(`short${i}`, bodies('s', 1 + (i % 16))))
  const { db, repo } = await repoWith(...feeds)
  await repo.summary(feeds[0]!.first!.sig) // the layout check's read, before counting
  const reads = spyReads(db)
  const loaded = await repo.loadFeeds(feeds.map((f) => f.first!.sig))
  reads.restore()
  expect(reads.count).toBe(2)
  expect(loaded.map((got) => ids(got?.feed))).toEqual(feeds.map(ids))
  await repo.close()
})

test('loadFeeds refuses an id that is not 64 bytes, more than a page of them, or a closed repo', async () => {
  const { repo } = await repoWith(chain('one', ['x']))
  await expect(repo.loadFeeds([new Uint8Array(63)])).rejects.toMatchObject({
    code: 'REPO_INVALID_INPUT',
  })
  const many = Array.from({ length: 65_537 }, () => new Uint8Array(64))
  await expect(repo.loadFeeds(many)).rejects.toMatchObject({ code: 'REPO_INVALID_INPUT' })
  await expect(repo.loadFeeds('x' as never)).rejects.toMatchObject({ code: 'REPO_INVALID_INPUT' })
  await repo.close()
  await expect(repo.loadFeeds([])).rejects.toMatchObject({ code: 'REPO_CLOSED' })
})

test('listChainFeeds lists the page listChains lists, with the blocks loadFeeds loads for chains of at most maxBlocks', async () => {
  const feeds = [1, 2, 3, 4, 16, 17].map((n, i) => chain(`paged${i}`, bodies('p', n)))
  const { db, repo } = await repoWith(...feeds)
  const options = { prefix: new Uint8Array(0), limit: 4 }
  for (const after of [undefined, (await repo.listChains(options))[3]!.chainId]) {
    const page = await repo.listChains({ ...options, ...(after ? { after } : {}) })
    for (const maxBlocks of [1, 3, 16]) {
      const listed = await repo.listChainFeeds({
        ...options,
        maxBlocks,
        ...(after ? { after } : {}),
      })
      expect(listed.map((c) => c.summary)).toEqual(page)
      const loaded = await repo.loadFeeds(page.map((s) => s.chainId))
      for (const [i, { summary, feed }] of listed.entries()) {
        if (summary.length > maxBlocks) expect(feed).toBeUndefined()
        else expect(ids(feed)).toEqual(ids(loaded[i]!.feed))
      }
    }
  }
  const reads = spyReads(db)
  await repo.listChainFeeds({ limit: 65_536, maxBlocks: 16 })
  reads.restore()
  expect(reads.count).toBe(1) // the blocks in one getMany (the records: one range read, no get)
  await repo.close()
})

test('listChainFeeds refuses a maxBlocks outside 1..16, bad list options, or a closed repo', async () => {
  const { repo } = await repoWith(chain('one', ['x']))
  for (const maxBlocks of [0, 17, 1.5, Number.NaN, '2' as never]) {
    await expect(repo.listChainFeeds({ limit: 1, maxBlocks })).rejects.toMatchObject({
      code: 'REPO_INVALID_INPUT',
    })
  }
  await expect(repo.listChainFeeds({ limit: 0, maxBlocks: 1 })).rejects.toMatchObject({
    code: 'REPO_INVALID_INPUT',
  })
  await repo.close()
  await expect(repo.listChainFeeds({ limit: 1, maxBlocks: 1 })).rejects.toMatchObject({
    code: 'REPO_CLOSED',
  })
})
