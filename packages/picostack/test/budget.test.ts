import { Feed } from '@picostack/feed'
import { expect, it } from 'vitest'
import { CounterKernel } from './helpers.ts'

it('maxRepoBytes bounds what a kernel holds; the state follows the blocks kept', async () => {
  const kernel = new CounterKernel(undefined, { maxRepoBytes: 3000 })
  await kernel.boot()
  for (let n = 0; n < 40; n++) await kernel.count(n, new Feed())
  let bytes = 0
  let blocks = 0
  for (const chain of await kernel.repo.listFeeds()) {
    for (const block of (await kernel.repo.loadFeed(chain.headId))!.blocks) {
      bytes += block.blockSize
      blocks++
    }
  }
  expect(bytes).toBeLessThanOrEqual(3000)
  expect(blocks).toBeGreaterThan(5)
  expect(blocks).toBeLessThan(40)
  expect(kernel.tally.blocks).toBe(blocks)
  await kernel.close()
})
