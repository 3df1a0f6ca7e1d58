/**
 * The trie on its own, on chain ids chosen to share long prefixes (real chain ids are
 * signatures, so a repo test almost never meets two that share more than a few nibbles):
 * random batches of item inserts, updates and removals (and claimed chains, which are no
 * items) staged as the repo stages them, then checked against the reference; the build
 * from scratch is checked on the same sets.
 */
import { fromHex, toHex } from '@picostack/feed'
import fc from 'fast-check'
import { MemoryLevel } from 'memory-level'
import { expect, it } from 'vitest'
import { itemDigest } from '../src/fingerprint.ts'
import { chainKey } from '../src/layout.ts'
import { INDEX_KEY, RangeIndex } from '../src/range-index.ts'
import { type ChainRecord, encodeChain } from '../src/records.ts'
import type { ItemChange, Op } from '../src/write-set.ts'
import { chainRecord } from './helpers.ts'
import { storedTrie, trieProblems } from './integrity.ts'
import { type RefItem, refChildren, refItem, refRange } from './reference-trie.ts'

const VIEW = { keyEncoding: 'view', valueEncoding: 'view' } as const
const BASE = Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff)

/** An id: BASE with a few nibbles changed (late positions share long prefixes). */
const idArb = fc
  .array(
    fc.record({
      pos: fc.oneof(fc.nat(3), fc.integer({ min: 120, max: 127 }), fc.nat(127)),
      val: fc.nat(15),
    }),
    {
      maxLength: 3,
    },
  )
  .map((changes) => {
    const id = BASE.slice()
    for (const { pos, val } of changes) {
      const byte = pos >> 1
      id[byte] = pos & 1 ? (id[byte]! & 0xf0) | val : (id[byte]! & 0x0f) | (val << 4)
    }
    return toHex(id)
  })

const batchArb = fc.array(
  fc.record({ id: idArb, action: fc.constantFrom('put', 'put', 'claim', 'remove') }),
  { minLength: 1, maxLength: 4 },
)

/** Chain id `k` of the range `bucket` (its first 3 nibbles), BASE after them. */
function bucketId(bucket: number, k: number): Uint8Array {
  const chainId = BASE.slice()
  chainId[0] = bucket >> 4
  chainId[1] = ((bucket & 15) << 4) | k
  return chainId
}

/** A database of chain records and no index: `itemsIn(bucket)` items in each range of 3 nibbles. */
async function bucketedChains(itemsIn: (bucket: number) => number) {
  const db = new MemoryLevel<Uint8Array, Uint8Array>({ storeEncoding: 'view' })
  const chains = new Map<string, ChainRecord>()
  const ops: Op[] = []
  for (let bucket = 0; bucket < 4096; bucket++) {
    for (let k = 0; k < itemsIn(bucket); k++) {
      const chain = chainRecord(bucketId(bucket, k), bucket + 1, false)
      chains.set(toHex(chain.chainId), chain)
      ops.push({ type: 'put', key: chainKey(chain.chainId), value: encodeChain(chain) })
    }
  }
  await db.batch(ops, VIEW)
  return { db, chains }
}

it('staged batches and the build from scratch both equal the reference trie', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(batchArb, { minLength: 1, maxLength: 12 }), async (batches) => {
      const db = new MemoryLevel<Uint8Array, Uint8Array>({ storeEncoding: 'view' })
      const index = new RangeIndex(db)
      await index.ensure()
      const chains = new Map<string, ChainRecord>()
      let height = 1
      for (const batch of batches) {
        const ops: Op[] = []
        const changes: ItemChange[] = []
        const was = new Map<string, boolean>()
        for (const { id, action } of batch) {
          const before = chains.get(id)
          if (!was.has(id)) was.set(id, before !== undefined && !before.claimed)
          const chainId = fromHex(id)
          if (action === 'remove') {
            if (!before) continue
            chains.delete(id)
            ops.push({ type: 'del', key: chainKey(chainId) })
          } else {
            const next = chainRecord(chainId, height++, action === 'claim')
            chains.set(id, next)
            ops.push({ type: 'put', key: chainKey(chainId), value: encodeChain(next) })
          }
        }
        // One change per chain and batch, as a write set drains them.
        for (const [id, wasItem] of was) {
          const now = chains.get(id)
          const digest =
            now && !now.claimed ? itemDigest(now.chainId, now.headId, now.headHeight) : null
          if (wasItem || digest) changes.push({ chainId: fromHex(id), was: wasItem, digest })
        }
        const written = await index.stage(changes, ops)
        await db.batch(ops, VIEW)
        written()
        const trie = await storedTrie(db)
        expect(trieProblems(chains, trie, Uint8Array.of(1))).toEqual([])
      }
      const items = [...chains.values()]
        .map((c) => refItem({ ...c, height: c.headHeight, proven: !c.claimed }))
        .filter((i): i is RefItem => !!i)
      const check = async (of: RangeIndex) => {
        for (const item of items) {
          for (const depth of [0, 1, 2, 3, 64, 119, 120, 123, 126, 127, 128]) {
            const prefix = item.nibbles.slice(0, depth)
            const got = await of.fingerprint(Uint8Array.from(prefix))
            expect([got.count, toHex(got.fingerprint)]).toEqual([
              refRange(items, prefix).count,
              toHex(refRange(items, prefix).fingerprint),
            ])
            if (depth < 128) {
              const children = await of.children(Uint8Array.from(prefix))
              expect(children.map((c) => [c.count, toHex(c.fingerprint)])).toEqual(
                refChildren(items, prefix).map((c) => [c.count, toHex(c.fingerprint)]),
              )
            }
          }
        }
      }
      await check(index)
      // Built from scratch (as for a database written before the index): the same nodes.
      const before: string[] = []
      for await (const [key, value] of db.iterator({
        gte: Uint8Array.of(0x0a),
        lt: Uint8Array.of(0x0b),
        ...VIEW,
      })) {
        before.push(`${toHex(key)}=${toHex(value)}`)
      }
      await db.del(INDEX_KEY, VIEW)
      const rebuilt = new RangeIndex(db)
      await rebuilt.ensure()
      const after: string[] = []
      for await (const [key, value] of db.iterator({
        gte: Uint8Array.of(0x0a),
        lt: Uint8Array.of(0x0b),
        ...VIEW,
      })) {
        after.push(`${toHex(key)}=${toHex(value)}`)
      }
      expect(after).toEqual(before)
      await check(rebuilt)
      await db.close()
    }),
    { numRuns: 30 },
  )
})

it('reads the top of a large trie from its stored nodes, with the ranges of one item or none', async () => {
  // Two items in every range of 3 nibbles, except 10 ranges of one item and 10 of none.
  const { db, chains } = await bucketedChains((b) => (b % 400 === 7 ? 1 : b % 400 === 9 ? 0 : 2))
  const index = new RangeIndex(db) // no version key: built, then its top derived
  await index.ensure()
  const items = [...chains.values()]
    .map((c) => refItem({ ...c, height: c.headHeight, proven: true }))
    .filter((i): i is RefItem => !!i)
  const same = async (of: RangeIndex, prefix: number[]) => {
    const got = await of.fingerprint(Uint8Array.from(prefix))
    const want = refRange(items, prefix)
    expect([got.count, toHex(got.fingerprint)]).toEqual([want.count, toHex(want.fingerprint)])
  }
  for (const prefix of [[], [0], [0, 0], [0, 0, 7], [0, 0, 9], [15, 15, 15], [1, 9, 0]]) {
    await same(index, prefix)
  }
  // A second open derives the same top from the stored nodes alone.
  const reopened = new RangeIndex(db)
  await reopened.ensure()
  await same(reopened, [])
  expect((await reopened.children(Uint8Array.of(0, 0))).map((c) => c.count)).toEqual(
    refChildren(items, [0, 0]).map((c) => c.count),
  )
  await db.close()
})

it('a saved top opens without a pass over the chain records, and the next change drops it', async () => {
  // Ranges of 3 nibbles: 2 items, except 400 of one item and 400 of none (more than the 64
  // read one by one, so an open without a saved top passes over every chain record).
  const { db, chains } = await bucketedChains((b) => (b % 10 === 3 ? 1 : b % 10 === 4 ? 0 : 2))
  const chainReads: string[] = []
  const { iterator } = db
  db.iterator = function (this: typeof db, options?: { gte?: Uint8Array }) {
    if (options?.gte?.[0] === 0x03) chainReads.push(toHex(options.gte))
    return iterator.call(this, options as never)
  } as typeof db.iterator
  const first = new RangeIndex(db)
  await first.ensure()
  expect(chainReads.length).toBeGreaterThan(0) // derived from the chain records
  await first.saveTop()
  const saved = (await db.get(INDEX_KEY, VIEW))!
  expect(saved[0]).toBe(1)
  expect(saved.length).toBe(1 + 48 * 410) // one id head and digest per range of one item
  expect(trieProblems(chains, await storedTrie(db), saved)).toEqual([])
  const refOf = () =>
    [...chains.values()]
      .map((c) => refItem({ ...c, height: c.headHeight, proven: true }))
      .filter((i): i is RefItem => !!i)
  const same = async (of: RangeIndex, prefixes: number[][]) => {
    const items = refOf()
    for (const prefix of prefixes) {
      const got = await of.fingerprint(Uint8Array.from(prefix))
      const want = refRange(items, prefix)
      expect([got.count, toHex(got.fingerprint)]).toEqual([want.count, toHex(want.fingerprint)])
    }
  }
  const prefixes = [[], [0], [0, 0], [0, 0, 3], [0, 0, 4], [0, 1, 3], [15, 15, 15], [4, 9]]
  chainReads.length = 0
  const reopened = new RangeIndex(db)
  await reopened.ensure()
  await same(reopened, [[], [0], [15, 15]])
  expect(chainReads).toEqual([]) // the saved top instead
  // A change: the batch writes the version alone, and the next open derives the top again.
  const chain = chainRecord(bucketId(3, 1), 9000, false)
  chains.set(toHex(chain.chainId), chain)
  const batch: Op[] = [{ type: 'put', key: chainKey(chain.chainId), value: encodeChain(chain) }]
  const change = {
    chainId: chain.chainId,
    was: false,
    digest: itemDigest(chain.chainId, chain.headId, chain.headHeight),
  }
  const written = await reopened.stage([change], batch)
  expect(batch.filter((op) => toHex(op.key) === toHex(INDEX_KEY))).toEqual([
    { type: 'put', key: INDEX_KEY, value: Uint8Array.of(1) },
  ])
  await db.batch(batch, VIEW)
  written()
  await same(reopened, prefixes)
  const derived = new RangeIndex(db)
  await derived.ensure()
  expect(chainReads.length).toBeGreaterThan(0)
  await same(derived, prefixes)
  // Saved again on the next close, now with one range of one item fewer.
  await reopened.saveTop()
  expect((await db.get(INDEX_KEY, VIEW))!.length).toBe(1 + 48 * 409)
  chainReads.length = 0
  const again = new RangeIndex(db)
  await again.ensure()
  await same(again, prefixes)
  expect(chainReads).toEqual([])
  await db.close()
})

it('refuses at open a saved top that disagrees with the stored nodes', async () => {
  const db = new MemoryLevel<Uint8Array, Uint8Array>({ storeEncoding: 'view' })
  const ops: Op[] = []
  for (const bucket of [0, 1, 1]) {
    const chainId = BASE.slice()
    chainId[0] = 0
    chainId[1] = (bucket << 4) | ops.length
    ops.push({
      type: 'put',
      key: chainKey(chainId),
      value: encodeChain(chainRecord(chainId, ops.length + 1, false)),
    })
  }
  await db.batch(ops, VIEW)
  const index = new RangeIndex(db)
  await index.ensure()
  await index.saveTop()
  const saved = (await db.get(INDEX_KEY, VIEW))!
  expect(saved.length).toBe(1 + 48) // range 000 holds one item, 001 two (a stored node)
  const wrong = saved.slice()
  wrong[2] = 0x10 // the item's head now points into range 001
  await db.put(INDEX_KEY, wrong, VIEW)
  await expect(new RangeIndex(db).ensure()).rejects.toMatchObject({ code: 'REPO_CORRUPT' })
  await db.put(INDEX_KEY, saved.subarray(0, 40), VIEW)
  await expect(new RangeIndex(db).ensure()).rejects.toMatchObject({ code: 'REPO_CORRUPT' })
  // Another version's value, whatever follows its first byte: rebuilt, the tail not read.
  await db.put(INDEX_KEY, Uint8Array.of(2, ...wrong.subarray(1)), VIEW)
  const rebuilt = new RangeIndex(db)
  await rebuilt.ensure()
  expect([...(await db.get(INDEX_KEY, VIEW))!]).toEqual([1])
  expect((await rebuilt.fingerprint(Uint8Array.of(0, 0))).count).toBe(3)
  await db.close()
})

it('writes over a top read lazily (stored nodes decoded on first use, fingerprints computed when read) keep the trie equal to the reference', async () => {
  // Every range of 3 nibbles holds 2 or 3 items: all 4,096 nodes there are stored.
  const { db, chains } = await bucketedChains((b) => 2 + (b % 2))
  await new RangeIndex(db).ensure() // builds the stored nodes
  const index = new RangeIndex(db) // a later open: the top from the stored nodes
  await index.ensure()
  // Removals that leave one item (the node at depth 3 goes), that leave two, inserts, updates.
  const changes: ItemChange[] = []
  const batch: Op[] = []
  for (const bucket of [0, 2, 5, 77, 4094, 4095]) {
    const chainId = bucketId(bucket, 0)
    chains.delete(toHex(chainId))
    batch.push({ type: 'del', key: chainKey(chainId) })
    changes.push({ chainId, was: true, digest: null })
  }
  for (const [bucket, k, was] of [
    [0, 5, false],
    [300, 1, true],
    [1000, 9, false],
  ] as const) {
    const chain = chainRecord(bucketId(bucket, k), 5000 + bucket, false)
    chains.set(toHex(chain.chainId), chain)
    batch.push({ type: 'put', key: chainKey(chain.chainId), value: encodeChain(chain) })
    changes.push({
      chainId: chain.chainId,
      was,
      digest: itemDigest(chain.chainId, chain.headId, chain.headHeight),
    })
  }
  const written = await index.stage(changes, batch)
  await db.batch(batch, VIEW)
  written()
  const items = [...chains.values()]
    .map((c) => refItem({ ...c, height: c.headHeight, proven: true }))
    .filter((i): i is RefItem => !!i)
  const same = async (of: RangeIndex, prefix: number[]) => {
    const got = await of.fingerprint(Uint8Array.from(prefix))
    const want = refRange(items, prefix)
    expect([got.count, toHex(got.fingerprint)]).toEqual([want.count, toHex(want.fingerprint)])
  }
  const prefixes = [[], [0], [0, 0], [0, 0, 0], [0, 0, 2], [0, 4, 13], [15, 15], [15, 15, 14]]
  for (const prefix of prefixes) await same(index, prefix)
  const again = new RangeIndex(db)
  await again.ensure()
  for (const prefix of prefixes) await same(again, prefix)
  expect((await again.children(Uint8Array.of(0, 0))).map((c) => c.count)).toEqual(
    refChildren(items, [0, 0]).map((c) => c.count),
  )
  await db.close()
})

it('refuses at open a stored node of the top that does not decode', async () => {
  const db = new MemoryLevel<Uint8Array, Uint8Array>({ storeEncoding: 'view' })
  const ops: Op[] = []
  for (let k = 0; k < 3; k++) {
    const chainId = BASE.slice()
    chainId[1] = (chainId[1]! & 0xf0) | k
    const chain = chainRecord(chainId, k + 1, false)
    ops.push({ type: 'put', key: chainKey(chainId), value: encodeChain(chain) })
  }
  await db.batch(ops, VIEW)
  await new RangeIndex(db).ensure()
  const stored: Uint8Array[] = []
  for await (const key of db.keys({
    gte: Uint8Array.of(0x0a, 3),
    lt: Uint8Array.of(0x0a, 4),
    ...VIEW,
  })) {
    stored.push(key)
  }
  expect(stored).toHaveLength(1)
  await db.put(stored[0]!, Uint8Array.of(0x80, 0x00, 2), VIEW) // one child, cut short
  await expect(new RangeIndex(db).ensure()).rejects.toMatchObject({ code: 'REPO_CORRUPT' })
  await db.close()
})
