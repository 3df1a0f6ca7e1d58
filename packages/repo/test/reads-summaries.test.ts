/**
 * `summaries`: the summaries of many chains in one read, equal to `summary` of each, whose
 * chain records the next eviction of those chains reads no more (unless a batch ran between).
 */
import { MemoryLevel } from 'memory-level'
import { expect, it } from 'vitest'
import { Repo } from '../src/index.ts'
import { spyReads } from './db-spy.ts'
import { chain } from './helpers.ts'

const NAMES = ['alice', 'bob', 'carol']

async function filled(): Promise<{ db: MemoryLevel<Uint8Array, Uint8Array>; repo: Repo }> {
  const db = new MemoryLevel<Uint8Array, Uint8Array>({ storeEncoding: 'view' })
  const repo = new Repo(db)
  for (const name of NAMES) await repo.merge(chain(name, [name]))
  await repo.merge(chain('frank', ['f0', 'f1', 'f2']))
  return { db, repo }
}

it('summaries equal summary of each id, in the order given, undefined where none', async () => {
  const { db, repo } = await filled()
  const ids = [
    chain('frank', ['f0']).first!.sig,
    chain('nobody', ['x']).first!.sig,
    ...NAMES.map((name) => chain(name, [name]).first!.sig),
  ]
  const reads = spyReads(db)
  const got = await repo.summaries(ids)
  reads.restore()
  expect(reads.count).toBe(1)
  expect(got[1]).toBeUndefined()
  expect(got[0]?.length).toBe(3)
  expect(got).toEqual(await Promise.all(ids.map((id) => repo.summary(id))))
  await expect(repo.summaries([new Uint8Array(3)])).rejects.toMatchObject({
    code: 'REPO_INVALID_INPUT',
  })
  await db.close()
})

it('an eviction right after summaries reads no chain record; after a batch it reads them again', async () => {
  const geneses = NAMES.map((name) => chain(name, [name]).first!.sig)
  const evictions = geneses.map((id) => ({ chainId: id, lastId: id }))
  const ahead = await filled()
  await ahead.repo.summaries(geneses)
  let reads = spyReads(ahead.db)
  expect(await ahead.repo.evictPrefixes(evictions)).toEqual([1, 1, 1])
  reads.restore()
  expect(reads.count).toBe(0)
  const stale = await filled()
  await stale.repo.summaries(geneses)
  await stale.repo.merge(chain('grace', ['g0']))
  reads = spyReads(stale.db)
  expect(await stale.repo.evictPrefixes(evictions)).toEqual([1, 1, 1])
  reads.restore()
  expect(reads.count).toBe(1)
  await ahead.db.close()
  await stale.db.close()
})
