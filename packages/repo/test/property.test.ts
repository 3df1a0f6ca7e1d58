/**
 * Property: any interleaving of merges of slices of the same feeds (retried until nothing
 * more merges, as a mempool would) ends in the same repo contents: the longest prefix of
 * each feed that the slices cover, as if that prefix had been merged in one go. Some
 * slices are written with `writeBlocks` instead (after their blocks already held, as the
 * store does), which must end the same.
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
      fc.array(fc.boolean(), { minLength: 1, maxLength: 12 }),
      async (slices, groupSizes, viaWriteBlocks) => {
        const db = new MemoryLevel({ storeEncoding: 'view' })
        const repo = new Repo(db, { strategy: accept })
        const merge = async (s: Slice, i: number) => {
          const feed = feeds[s.feed]!.slice(s.start, s.end)
          if (!viaWriteBlocks[i % viaWriteBlocks.length]) return repo.merge(feed)
          let blocks = feed.blocks
          while (blocks.length > 0 && (await repo.hasBlock(blocks[0]!.sig)))
            blocks = blocks.slice(1)
          return repo.writeBlocks(
            blocks.map((block) => ({ block })),
            { verified: true },
          )
        }
        // First pass: groups of merges run concurrently, in the generated order.
        let at = 0
        for (let g = 0; at < slices.length; g++) {
          const size = groupSizes[g % groupSizes.length]!
          await Promise.all(slices.slice(at, at + size).map((s, i) => merge(s, at + i)))
          at += size
        }
        // Then retry everything until nothing more merges.
        let progress = true
        while (progress) {
          progress = false
          for (const [i, s] of slices.entries()) if ((await merge(s, i)) > 0) progress = true
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
