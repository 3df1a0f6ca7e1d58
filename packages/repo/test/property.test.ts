/**
 * Property: any interleaving of merges of slices of the same feeds (retried until nothing
 * more merges, as a mempool would) ends in the same repo contents: the longest prefix of
 * each feed that the slices cover, as if that prefix had been merged in one go.
 */
import { type Feed, toHex } from '@picostack/feed'
import fc from 'fast-check'
import { MemoryLevel } from 'memory-level'
import { expect, it } from 'vitest'
import { type MergeStrategy, Repo } from '../src/index.ts'
import { bodies, chain, pair } from './helpers.ts'
import { integrityProblems } from './integrity.ts'

const accept: MergeStrategy = () => true
const aliceWithCarol = chain(
  'alice',
  ['a6', 'a7'],
  chain('carol', ['c4', 'c5'], chain('alice', bodies('a', 4))),
)
const feeds: Feed[] = [aliceWithCarol, chain('bob', bodies('b', 6)), chain('dave', bodies('d', 5))]
const authors = ['alice', 'bob', 'carol', 'dave'].map((name) => pair(name).pk)

interface Slice {
  feed: number
  start: number
  end: number
}

async function snapshot(repo: Repo) {
  const summaries = await repo.listFeeds()
  return {
    summaries: summaries.map((s) => ({
      ...s,
      chainId: toHex(s.chainId),
      author: toHex(s.author),
      headId: toHex(s.headId),
      firstId: toHex(s.firstId),
    })),
    chains: await Promise.all(
      summaries.map(async (s) => toHex((await repo.resolveFeed(s.headId))!.buffer)),
    ),
    heads: await Promise.all(
      authors.map(async (a) => (await repo.headOf(a)) && toHex((await repo.headOf(a))!)),
    ),
    latest: await Promise.all(
      authors.map(async (a) => (await repo.latestOf(a)) && toHex((await repo.latestOf(a))!)),
    ),
  }
}

/** How many blocks from the start of each feed the slices cover without a gap. */
function coveredPrefix(slices: Slice[]): number[] {
  return feeds.map((feed, f) => {
    let k = 0
    while (k < feed.length && slices.some((s) => s.feed === f && s.start <= k && k < s.end)) k++
    return k
  })
}

const sliceArb = fc
  .integer({ min: 0, max: feeds.length - 1 })
  .chain((feed) =>
    fc
      .tuple(fc.nat(feeds[feed]!.length - 1), fc.integer({ min: 1, max: feeds[feed]!.length }))
      .map(([start, size]) => ({ feed, start, end: Math.min(feeds[feed]!.length, start + size) })),
  )

it('any interleaving of merges of slices ends in the same contents', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(sliceArb, { minLength: 1, maxLength: 12 }),
      fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 12 }),
      async (slices, groupSizes) => {
        const db = new MemoryLevel({ storeEncoding: 'view' })
        const repo = new Repo(db, { strategy: accept })
        const merge = (s: Slice) => repo.merge(feeds[s.feed]!.slice(s.start, s.end))
        // First pass: groups of merges run concurrently, in the generated order.
        let at = 0
        for (let g = 0; at < slices.length; g++) {
          const size = groupSizes[g % groupSizes.length]!
          await Promise.all(slices.slice(at, at + size).map(merge))
          at += size
        }
        // Then retry everything until nothing more merges.
        let progress = true
        while (progress) {
          progress = false
          for (const s of slices) if ((await merge(s)) > 0) progress = true
        }
        expect(await integrityProblems(db)).toEqual([])
        const got = await snapshot(repo)
        await repo.close()

        const reference = new Repo(new MemoryLevel(), { strategy: accept })
        const prefix = coveredPrefix(slices)
        for (const [f, feed] of feeds.entries()) {
          if (prefix[f]! > 0) await reference.merge(feed.slice(0, prefix[f]))
        }
        const expected = await snapshot(reference)
        await reference.close()
        expect(got).toEqual(expected)
      },
    ),
    { numRuns: 150 },
  )
})
