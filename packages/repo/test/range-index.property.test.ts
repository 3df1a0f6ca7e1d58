/**
 * Property: after any sequence of writes (new chains, appends, forks and foreign appends
 * that the strategy accepts or refuses, rollbacks, prefix evictions, partial chains claimed
 * and then replaced by their genesis, close and reopen, and an index forgotten as if the
 * database predated it), every `rangeFingerprint` and `rangeChildren` equals the reference
 * computed from scratch from `listFeeds()`, the stored trie is exactly the reference's
 * (integrity check), and `listChains` pages through `listFeeds()` order.
 */
import { type Feed, toHex } from '@picostack/feed'
import fc from 'fast-check'
import { MemoryLevel } from 'memory-level'
import { expect, it } from 'vitest'
import { Repo } from '../src/index.ts'
import { NS, prefixEnd } from '../src/layout.ts'
import { INDEX_KEY } from '../src/range-index.ts'
import { spyBatches } from './db-spy.ts'
import { chain, pair } from './helpers.ts'
import { integrityProblems } from './integrity.ts'
import { type RefItem, refChildren, refItem, refNodes, refRange } from './reference-trie.ts'

const VIEW = { keyEncoding: 'view', valueEncoding: 'view' } as const
const AUTHORS = ['alice', 'bob', 'carol']

type Op =
  | { t: 'new'; author: number; blocks: number }
  | { t: 'append'; pick: number; blocks: number }
  | { t: 'fork'; pick: number; at: number; accept: boolean }
  | { t: 'foreign'; pick: number; author: number; accept: boolean }
  | { t: 'rollback'; pick: number; keep: number }
  | { t: 'evictPrefix'; pick: number; last: number }
  | { t: 'partial'; author: number; blocks: number; skip: number; height: boolean }
  | { t: 'genesis'; pick: number }
  | { t: 'reopen' }
  | { t: 'forget' }
  | { t: 'failing'; author: number }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('new' as const),
      author: fc.nat(2),
      blocks: fc.integer({ min: 1, max: 3 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('append' as const),
      pick: fc.nat(),
      blocks: fc.integer({ min: 1, max: 2 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('fork' as const),
      pick: fc.nat(),
      at: fc.nat(),
      accept: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('foreign' as const),
      pick: fc.nat(),
      author: fc.nat(2),
      accept: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('rollback' as const), pick: fc.nat(), keep: fc.nat(3) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('evictPrefix' as const),
      pick: fc.nat(),
      last: fc.nat(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('partial' as const),
      author: fc.nat(2),
      blocks: fc.integer({ min: 2, max: 4 }),
      skip: fc.integer({ min: 1, max: 3 }),
      height: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('genesis' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('reopen' as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('forget' as const) }) },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('failing' as const), author: fc.nat(2) }),
  },
)

const nameOf = new Map(
  AUTHORS.map((name) => {
    const { pk } = pair(name)
    return [typeof pk === 'string' ? pk : toHex(pk), name]
  }),
)

/** Checks every range the reference trie has a node for, their children, and `extra` prefixes. */
async function checkRanges(repo: Repo, extra: number[][]): Promise<void> {
  const items = (await repo.listFeeds()).map(refItem).filter((i): i is RefItem => !!i)
  const prefixes = [...refNodes(items).keys()].map((hex) =>
    [...hex].map((h) => Number.parseInt(h, 16)),
  )
  for (const item of items) prefixes.push(item.nibbles.slice(0, 3), item.nibbles)
  prefixes.push([], ...extra)
  for (const prefix of prefixes) {
    const got = await repo.rangeFingerprint(Uint8Array.from(prefix))
    const want = refRange(items, prefix)
    expect({ count: got.count, fp: toHex(got.fingerprint) }).toEqual({
      count: want.count,
      fp: toHex(want.fingerprint),
    })
    if (prefix.length < 128) {
      const children = await repo.rangeChildren(Uint8Array.from(prefix))
      expect(children.map((c) => [c.count, toHex(c.fingerprint)])).toEqual(
        refChildren(items, prefix).map((c) => [c.count, toHex(c.fingerprint)]),
      )
    }
  }
}

/** Pages through listChains and compares with listFeeds (in order, filtered). */
async function checkPages(
  repo: Repo,
  limit: number,
  proven: boolean,
  prefix: number[],
): Promise<void> {
  const all = (await repo.listFeeds()).filter(
    (s) =>
      (!proven || s.proven) &&
      prefix.every((n, i) => (i & 1 ? s.chainId[i >> 1]! & 15 : s.chainId[i >> 1]! >> 4) === n),
  )
  const paged: string[] = []
  let after: Uint8Array | undefined
  for (;;) {
    const page = await repo.listChains({ prefix: Uint8Array.from(prefix), after, limit, proven })
    expect(page.length).toBeLessThanOrEqual(limit)
    paged.push(...page.map((s) => toHex(s.chainId)))
    if (page.length < limit) break
    after = page[page.length - 1]!.chainId
  }
  expect(paged).toEqual(all.map((s) => toHex(s.chainId)))
}

it('the index equals the reference after any sequence of writes', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(opArb, { minLength: 1, maxLength: 24 }),
      fc.array(fc.array(fc.nat(15), { maxLength: 3 }), { maxLength: 3 }),
      fc.integer({ min: 1, max: 4 }),
      async (ops, extra, limit) => {
        const db = new MemoryLevel({ storeEncoding: 'view' })
        // A database whose next batch can be made to fail (a full disk, a quota).
        let failNext = false
        spyBatches(db, () => {
          if (!failNext) return undefined
          failNext = false
          return new Error('quota exceeded')
        })
        let repo = new Repo(db)
        const genesisFeeds: Feed[] = []
        let n = 0
        const body = () => `b${n++}`
        /** The stored chain `pick` picks (by listFeeds order), with its stored blocks. */
        const picked = async (pick: number) => {
          const feeds = await repo.listFeeds()
          if (feeds.length === 0) return undefined
          const summary = feeds[pick % feeds.length]!
          const stored = (await repo.resolveFeed(summary.headId))!
          return { summary, stored, owner: nameOf.get(toHex(summary.author))! }
        }
        for (const op of ops) {
          switch (op.t) {
            case 'new':
              await repo.merge(chain(AUTHORS[op.author]!, Array.from({ length: op.blocks }, body)))
              break
            case 'append': {
              const p = await picked(op.pick)
              if (p)
                await repo.merge(chain(p.owner, Array.from({ length: op.blocks }, body), p.stored))
              break
            }
            case 'fork': {
              const p = await picked(op.pick)
              if (!p) break
              const base = p.stored.slice(0, 1 + (op.at % p.stored.length))
              await repo.merge(chain(p.owner, [body()], base), () => op.accept)
              break
            }
            case 'foreign': {
              const p = await picked(op.pick)
              if (p)
                await repo.merge(chain(AUTHORS[op.author]!, [body()], p.stored), () => op.accept)
              break
            }
            case 'rollback': {
              const p = await picked(op.pick)
              if (!p) break
              const keep = op.keep % (p.stored.length + 1)
              await repo.rollback(
                p.summary.chainId,
                keep === 0 ? undefined : p.stored.block(keep - 1)!.sig,
              )
              break
            }
            case 'evictPrefix': {
              const p = await picked(op.pick)
              if (p)
                await repo.evictPrefix(
                  p.summary.chainId,
                  p.stored.block(op.last % p.stored.length)!.sig,
                )
              break
            }
            case 'partial': {
              const full = chain(AUTHORS[op.author]!, Array.from({ length: op.blocks }, body))
              const skip = Math.min(op.skip, op.blocks - 1)
              await repo.merge(full.slice(skip), undefined, {
                chainId: full.first!.sig,
                height: op.height ? skip + 1 : undefined,
              })
              genesisFeeds.push(full)
              break
            }
            case 'genesis':
              if (genesisFeeds.length > 0)
                await repo.merge(genesisFeeds[op.pick % genesisFeeds.length]!)
              break
            case 'forget': {
              // As if the database had been written before the index: no nodes, no version.
              await repo.close()
              await db.open()
              const trie = Uint8Array.of(NS.trie)
              const keys = await db
                .keys({ gte: trie, lt: prefixEnd(trie), keyEncoding: 'view' })
                .all()
              await db.batch(
                [...keys, INDEX_KEY].map((key) => ({ type: 'del' as const, key })),
                VIEW,
              )
              repo = new Repo(db)
              break
            }
            case 'failing': {
              // A write whose batch fails leaves the index as it was (memory included).
              failNext = true
              const feed = chain(AUTHORS[op.author]!, [body(), body()])
              await expect(repo.merge(feed)).rejects.toThrow('quota exceeded')
              failNext = false
              break
            }
            case 'reopen':
              await repo.close()
              await db.open()
              repo = new Repo(db)
              break
          }
          await checkRanges(repo, extra)
        }
        expect(await integrityProblems(db)).toEqual([])
        await checkPages(repo, limit, false, [])
        await checkPages(repo, limit, true, [])
        await checkPages(repo, limit, true, extra[0]?.slice(0, 1) ?? [])
        await repo.close()
      },
    ),
    { numRuns: 60 },
  )
})
