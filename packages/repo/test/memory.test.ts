import { MemoryLevel } from 'memory-level'
import { expect, it } from 'vitest'
import { Repo } from '../src/index.ts'
import { conformance, type DbFactory } from './conformance.ts'
import { groupSyncReads, spyReads } from './db-spy.ts'
import { bodies, chain } from './helpers.ts'
import { integrityProblems } from './integrity.ts'

/**
 * memory-level keeps its data across close/open of the same instance. `getSync: false`
 * hides its `getSync` from the repo, so that every read takes the `getMany` path (as on
 * browser-level) and both read paths pass the suite in Node.
 */
function memoryFactory(
  name: string,
  options: { storeEncoding?: 'view'; getSync?: false } = {},
): DbFactory {
  let last: MemoryLevel | undefined
  return {
    name,
    async open() {
      last = new MemoryLevel({ storeEncoding: options.storeEncoding })
      if (options.getSync === false) {
        Object.defineProperty(last, 'supports', { value: { ...last.supports, getSync: false } })
      }
      return last
    },
    async reopen() {
      await last!.open()
      return last!
    },
  }
}

conformance(memoryFactory('memory-level (default encodings)'))
conformance(
  memoryFactory("memory-level (storeEncoding 'view', no Buffers, no getSync)", {
    storeEncoding: 'view',
    getSync: false,
  }),
)

it('the integrity check used after every conformance test notices a dangling tag', async () => {
  const db = new MemoryLevel()
  const repo = new Repo(db)
  const feed = chain('alice', bodies('a', 3))
  await repo.merge(feed)
  expect(await integrityProblems(db)).toEqual([])
  const [blockKey] = await db
    .keys({
      gte: Uint8Array.of(2),
      lt: Uint8Array.of(3),
      keyEncoding: 'view',
      reverse: true,
      limit: 1,
    })
    .all()
  await db.del(blockKey!, { keyEncoding: 'view' })
  expect(await integrityProblems(db)).toEqual(
    expect.arrayContaining([expect.stringMatching(/head mismatch/)]),
  )
})

it('reads a few keys with getSync where the database has it, and only with getMany where not', async () => {
  for (const hidden of [false, true]) {
    const db = new MemoryLevel()
    if (hidden) Object.defineProperty(db, 'supports', { value: { ...db.supports, getSync: false } })
    const repo = new Repo(db)
    const feed = chain('alice', bodies('a', 3))
    await repo.merge(feed)
    let syncReads = 0
    const restore = groupSyncReads(db, () => syncReads++)
    const reads = spyReads(db)
    expect((await repo.loadFeed(feed.last!.sig))?.length).toBe(3)
    expect(await repo.summary(feed.first!.sig)).toMatchObject({ length: 3 })
    const total = reads.count
    reads.restore()
    restore()
    if (hidden) {
      expect(syncReads).toBe(0)
      expect(total).toBeGreaterThan(0)
    } else {
      expect(syncReads).toBeGreaterThan(0)
      expect(total).toBe(syncReads) // no get or getMany: each read was a run of getSync calls
    }
  }
})
