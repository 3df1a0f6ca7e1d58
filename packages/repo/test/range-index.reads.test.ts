/**
 * A batch whose paths pass many stored nodes reads them in parts side by side (a gc of
 * 1,000 removals with 1M chains held reads ~1,000 nodes of depth 4): the nodes staged from
 * those parts are the reference trie's, as for a batch read in one part.
 */
import { toHex } from '@picostack/feed'
import fc from 'fast-check'
import { MemoryLevel } from 'memory-level'
import { expect, it } from 'vitest'
import { itemDigest, sha256 } from '../src/fingerprint.ts'
import { chainKey } from '../src/layout.ts'
import { RangeIndex } from '../src/range-index.ts'
import { type ChainRecord, encodeChain } from '../src/records.ts'
import type { ItemChange, Op } from '../src/write-set.ts'
import { chainRecord } from './helpers.ts'
import { storedTrie, trieProblems } from './integrity.ts'

const VIEW = { keyEncoding: 'view', valueEncoding: 'view' } as const

function chainId(n: number): Uint8Array {
  const seed = new TextEncoder().encode(`chain ${n}`)
  const id = new Uint8Array(64)
  id.set(sha256(seed))
  id.set(sha256(id.subarray(0, 32)), 32)
  return id
}

it('stages a batch of thousands of removals and inserts read in parts as the reference trie', async () => {
  const db = new MemoryLevel<Uint8Array, Uint8Array>({ storeEncoding: 'view' })
  const chains = new Map<string, ChainRecord>()
  const held = 20_000
  await db.batch(
    Array.from({ length: held }, (_, n) => {
      const chain = chainRecord(chainId(n), n + 1)
      chains.set(String(n), chain)
      return { type: 'put' as const, key: chainKey(chain.chainId), value: encodeChain(chain) }
    }),
    VIEW,
  )
  const index = new RangeIndex(db)
  await index.ensure() // built from the chain records
  const removed = fc.sample(fc.integer({ min: 0, max: held - 1 }), { numRuns: 5_000, seed: 13 })
  const ops: Op[] = []
  const changes: ItemChange[] = []
  for (const n of new Set(removed)) {
    const chain = chains.get(String(n))!
    chains.delete(String(n))
    ops.push({ type: 'del', key: chainKey(chain.chainId) })
    changes.push({ chainId: chain.chainId, was: true, digest: null })
  }
  for (let n = held; n < held + 1_000; n++) {
    const chain = chainRecord(chainId(n), n + 1)
    chains.set(String(n), chain)
    ops.push({ type: 'put', key: chainKey(chain.chainId), value: encodeChain(chain) })
    const digest = itemDigest(chain.chainId, chain.headId, chain.headHeight)
    changes.push({ chainId: chain.chainId, was: false, digest })
  }
  const reads: number[] = []
  const getMany = db.getMany.bind(db)
  db.getMany = ((keys: Uint8Array[], options: unknown) => {
    reads.push(keys.length)
    return getMany(keys, options as never)
  }) as typeof db.getMany
  const written = await index.stage(changes, ops)
  db.getMany = getMany
  // The depth-4 nodes the batch passes came in parts of at least 256 keys, side by side.
  expect(reads.filter((n) => n >= 256).length).toBeGreaterThan(1)
  await db.batch(ops, VIEW)
  written()
  const trie = await storedTrie(db)
  const byId = new Map([...chains.values()].map((c) => [toHex(c.chainId), c]))
  expect(trieProblems(byId, trie, Uint8Array.of(1))).toEqual([])
}, 60_000)
