import { toHex } from '@picostack/feed'
import { MemoryLevel } from 'memory-level'
import { expect, it } from 'vitest'
import { Repo } from '../src/index.ts'
import { bodies, chain, keyCount, pair } from './helpers.ts'

it('smoke', async () => {
  const db = new MemoryLevel()
  const repo = new Repo(db)
  const feed = chain('alice', bodies('a', 5))
  expect(await repo.merge(feed)).toBe(5)
  expect(await repo.merge(feed)).toBe(0)
  const loaded = await repo.loadHead(pair('alice').pk)
  expect(toHex(loaded!.buffer)).toBe(toHex(feed.buffer))
  console.log(await keyCount(db), await repo.listFeeds())
  expect(await repo.rollback(pair('alice').pk, feed.block(1)!.sig)).toHaveLength(3)
  console.log(await keyCount(db))
})
