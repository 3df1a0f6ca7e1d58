/**
 * The reads of `evictPrefixes`: a chain that holds its genesis alone leaves without a read
 * of its block or of a placement (a genesis has none), only its chain record, read with the
 * others of its window in one `getMany`; the database is left as one `evictPrefix` per
 * chain leaves it.
 */
import { MemoryLevel } from 'memory-level'
import { expect, it } from 'vitest'
import { Repo } from '../src/index.ts'
import { spyReads } from './db-spy.ts'
import { chain, dump } from './helpers.ts'

async function filled(): Promise<{ db: MemoryLevel<Uint8Array, Uint8Array>; repo: Repo }> {
  const db = new MemoryLevel<Uint8Array, Uint8Array>({ storeEncoding: 'view' })
  const repo = new Repo(db)
  for (const name of ['alice', 'bob', 'carol', 'dave', 'erin'])
    await repo.merge(chain(name, [name]))
  await repo.merge(chain('frank', ['f0', 'f1', 'f2']))
  return { db, repo }
}

it('evicts chains of their genesis alone reading only their chain records, as evictPrefix does', async () => {
  const names = ['alice', 'bob', 'carol', 'dave', 'erin']
  const geneses = names.map((name) => chain(name, [name]).first!.sig)
  const one = await filled()
  const reads = spyReads(one.db)
  const counts = await one.repo.evictPrefixes(geneses.map((id) => ({ chainId: id, lastId: id })))
  reads.restore()
  expect(counts).toEqual([1, 1, 1, 1, 1])
  expect(reads.count).toBe(1)
  const each = await filled()
  for (const id of geneses) await each.repo.evictPrefix(id, id)
  expect(await dump(one.db)).toEqual(await dump(each.db))
  for (const id of geneses) expect(await one.repo.hasBlock(id)).toBe(false)
  expect(await one.repo.rangeFingerprint(new Uint8Array(0))).toMatchObject({ count: 1 })
  // A chain of more blocks, evicted whole through its genesis's id, still reads its blocks.
  const frank = chain('frank', ['f0', 'f1', 'f2'])
  const id = frank.first!.sig
  expect(await one.repo.evictPrefixes([{ chainId: id, lastId: frank.last!.sig }])).toEqual([3])
  expect(await one.repo.rangeFingerprint(new Uint8Array(0))).toMatchObject({ count: 0 })
  await one.db.close()
  await each.db.close()
})
