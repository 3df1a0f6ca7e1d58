import { Feed, signPair, toHex } from '@picostack/feed'
import fc from 'fast-check'
import { expect, test } from 'vitest'
import type { SyncLimits } from '../src/index.ts'
import { CounterKernel, until } from './helpers.ts'

/**
 * One chain of 1 to 4 blocks and what each side holds of it (block counts from genesis,
 * 0: nothing); b's last `fork` blocks are its own continuation after the shared prefix.
 */
const chainShape = fc
  .record({ length: fc.integer({ min: 1, max: 4 }), a: fc.nat(), b: fc.nat(), fork: fc.nat() })
  .map(({ length, a, b, fork }) => {
    const ha = a % (length + 1)
    const hb = b % (length + 1)
    return { length, a: ha, b: hb, fork: hb >= 2 ? fork % hb : 0 }
  })

/** Every block id a kernel holds, sorted. */
async function blockIds(kernel: CounterKernel): Promise<string[]> {
  const ids: string[] = []
  for (const chain of await kernel.repo.listFeeds()) {
    const feed = await kernel.repo.loadFeed(chain.headId)
    for (const block of feed!.blocks) ids.push(toHex(block.sig))
  }
  return ids.sort()
}

const idsOf = (feed: Feed) => feed.blocks.map((block) => toHex(block.sig))

/** True when `a`'s blocks are the first blocks of `b`. */
const isPrefix = (a: Feed, b: Feed) =>
  a.length <= b.length && idsOf(a).every((id, i) => id === idsOf(b)[i])

// Lists of at most 2 items: ranges are split a few levels deep even for a few dozen chains.
const limits = { listItems: 2 }

test('random pairs of repos (shared, disjoint, behind, forked chains) reconcile to what each strategy accepts, in O(log n) rounds', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(chainShape, { maxLength: 60 }), async (shapes) => {
      const a = new CounterKernel(undefined, { limits })
      const b = new CounterKernel(undefined, { limits })
      await Promise.all([a.boot(), b.boot()])
      const authors = [signPair().sk, signPair().sk, signPair().sk]
      const expectA: string[] = []
      const expectB: string[] = []
      let n = 0
      for (const [i, shape] of shapes.entries()) {
        const sk = authors[i % authors.length]!
        const main = new Feed()
        for (let k = 0; k < shape.length; k++) {
          main.append(CounterKernel.encodeBlock('count', { n: n++ }), sk)
        }
        const ofA = main.slice(0, shape.a)
        const ofB = main.slice(0, shape.b - shape.fork)
        for (let k = 0; k < shape.fork; k++) {
          ofB.append(CounterKernel.encodeBlock('count', { n: n++ }), sk)
        }
        if (ofA.length > 0) await a.dispatch(ofA)
        if (ofB.length > 0) await b.dispatch(ofB)
        if (isPrefix(ofA, ofB) || isPrefix(ofB, ofA)) {
          // One extends the other: both end with the longer.
          const longer = ofA.length >= ofB.length ? ofA : ofB
          expectA.push(...idsOf(longer))
          expectB.push(...idsOf(longer))
        } else {
          // A fork: the default merge strategy refuses the other's branch on each side.
          expectA.push(...idsOf(ofA))
          expectB.push(...idsOf(ofB))
        }
      }
      a.spawnWire()(b.spawnWire())
      const wantA = expectA.sort().join()
      const wantB = expectB.sort().join()
      await until(
        async () =>
          (a.peers[0]?.stats.passes ?? 0) > 0 &&
          (await blockIds(a)).join() === wantA &&
          (await blockIds(b)).join() === wantB,
        10_000,
      )
      await new Promise((resolve) => setTimeout(resolve, 20)) // the pass's last message
      const { passes, rangeMessages } = a.peers[0]!.stats
      // A pass goes down one trie level per message: root, a few splits, the lists, their answer.
      const depth = Math.ceil(Math.log(Math.max(shapes.length, 2)) / Math.log(16))
      expect(passes).toBe(1)
      expect(rangeMessages).toBeLessThanOrEqual(4 + 3 * depth)
      await Promise.all([a.close(), b.close()])
    }),
    { numRuns: 30 },
  )
}, 120_000)

/**
 * Two booted kernels with `limits`: `a` holds 400 one-block chains, `b` all but a third of
 * them (spread over the whole trie); then they connect.
 */
async function behindByAThird(
  limits: Partial<SyncLimits>,
): Promise<[CounterKernel, CounterKernel]> {
  const a = new CounterKernel(undefined, { limits })
  const b = new CounterKernel(undefined, { limits })
  await Promise.all([a.boot(), b.boot()])
  const { sk } = signPair()
  for (let n = 0; n < 400; n++) {
    const feed = new Feed()
    feed.append(CounterKernel.encodeBlock('count', { n }), sk)
    await a.dispatch(feed)
    if (n % 3 !== 0) await b.dispatch(feed)
  }
  a.spawnWire()(b.spawnWire())
  await until(() => b.tally.blocks === 400, 20_000)
  expect(b.tally).toEqual(a.tally)
  return [a, b]
}

test('past the per-message caps a pass stops, says where, and the next pass resumes there', async () => {
  const [a, b] = await behindByAThird({ listItems: 2, maxRanges: 16, maxItems: 4 })
  expect(a.peers[0]!.stats.passes).toBeGreaterThan(1)
  await Promise.all([a.close(), b.close()])
}, 60_000)

test('an answer never carries more tags and heads than maxItems, however many ranges differ', async () => {
  // Room for 4096 ranges but 8 items: a message of many small lists must stop at 8 tags.
  const [a, b] = await behindByAThird({ listItems: 2, maxItems: 8 })
  // Neither side refused a message of the other's (KERNEL_TOO_LARGE before the cap held).
  expect([...a.peers[0]!.stats.errors, ...b.peers[0]!.stats.errors]).toEqual([])
  await Promise.all([a.close(), b.close()])
}, 60_000)
