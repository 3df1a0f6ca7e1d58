import { MemoryLevel } from 'memory-level'
import { expect, it } from 'vitest'
import { Repo } from '../src/index.ts'
import { conformance, type DbFactory } from './conformance.ts'
import { bodies, chain } from './helpers.ts'
import { integrityProblems } from './integrity.ts'

/** memory-level keeps its data across close/open of the same instance. */
function memoryFactory(name: string, options: { storeEncoding?: 'view' } = {}): DbFactory {
  let last: MemoryLevel | undefined
  return {
    name,
    async open() {
      last = new MemoryLevel(options)
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
  memoryFactory("memory-level (storeEncoding 'view', no Buffers)", { storeEncoding: 'view' }),
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
