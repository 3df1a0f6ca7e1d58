import { Feed, signPair, toHex } from '@picostack/feed'
import { loadFeeds, Repo } from '@picostack/repo'
import { MemoryLevel } from 'memory-level'
import { expect, test } from 'vitest'

// loadFeeds: what the outbox sends a peer lacking a page of chains, two reads for the
// page instead of two per chain. It must load what loadFeed and summary give one by one.

function chain(length: number, sk = signPair().sk): Feed {
  const feed = new Feed()
  for (let i = 0; i < length; i++) feed.append(`block ${i} of ${length}`, sk)
  return feed
}

async function repoWith(...feeds: Feed[]): Promise<Repo> {
  const repo = new Repo(new MemoryLevel({ keyEncoding: 'view', valueEncoding: 'view' }))
  for (const feed of feeds) {
    const writes = feed.blocks.map((block) => ({ block }))
    expect(await repo.writeBlocks(writes, { verified: true })).toBe(writes.length)
  }
  return repo
}

const ids = (feed: Feed | undefined) => feed?.blocks.map((block) => toHex(block.sig))

test('loadFeeds gives each chain its summary and every stored block, in the order asked, as loadFeed does one by one', async () => {
  // One block, a short chain read by key, one of 16 (the last by key), one of 17 and a
  // long one (iterators of their own), a partial chain (a claimed id and height).
  const whole = [chain(1), chain(3), chain(16), chain(17), chain(40)]
  const partial = chain(5)
  const repo = await repoWith(...whole)
  const tail = partial.slice(2)
  const claimed = partial.first!.sig
  await repo.writeBlocks(
    tail.blocks.map((block) => ({ block })),
    { verified: true, chainId: claimed, height: 3 },
  )
  // A chain whose two oldest blocks were evicted: the rest, not a gap.
  const evicted = chain(6)
  await repo.writeBlocks(
    evicted.blocks.map((block) => ({ block })),
    { verified: true },
  )
  await repo.evictPrefix(evicted.first!.sig, evicted.blocks[1]!.sig)
  const unknown = chain(1).first!.sig
  const asked = [...whole.map((f) => f.first!.sig), claimed, unknown, evicted.first!.sig]
  const loaded = await loadFeeds(repo.db, asked)
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
  expect(await loadFeeds(repo.db, [])).toEqual([])
  await repo.close()
})

test('loadFeeds refuses an id that is not 64 bytes, or more than a page of them', async () => {
  const repo = await repoWith(chain(1))
  await expect(loadFeeds(repo.db, [new Uint8Array(63)])).rejects.toMatchObject({
    code: 'REPO_INVALID_INPUT',
  })
  const many = Array.from({ length: 65_537 }, () => new Uint8Array(64))
  await expect(loadFeeds(repo.db, many)).rejects.toMatchObject({ code: 'REPO_INVALID_INPUT' })
  await repo.close()
})
