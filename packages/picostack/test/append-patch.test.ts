import { bytesEqual, Feed } from '@picostack/feed'
import { StoreError } from '@picostack/store'
import { expect, test } from 'vitest'
import { CounterKernel } from './helpers.ts'

const MAGIC = [0x50, 0x49, 0x43, 0x30]

test('createBlock returns a feed of exactly the new block, for a new chain and after a parent', async () => {
  const kernel = new CounterKernel()
  await kernel.boot()
  const genesis = await kernel.count(1, new Feed())
  expect(genesis.length).toBe(1)
  expect(genesis.last!.genesis).toBe(true)
  expect([...genesis.buffer]).toEqual([...MAGIC, ...genesis.last!.buffer])
  const next = await kernel.count(2, genesis)
  expect(next.length).toBe(1)
  expect(bytesEqual(next.last!.psig, genesis.last!.sig)).toBe(true)
  expect([...next.buffer]).toEqual([...MAGIC, ...next.last!.buffer])
  // Both are what the repo holds, in chain order.
  const held = (await kernel.repo.loadFeed(next.last!.sig))!
  expect(held.length).toBe(2)
  expect(bytesEqual(held.first!.sig, genesis.last!.sig)).toBe(true)
  expect(kernel.tally).toMatchObject({ blocks: 2, sum: 3 })
  await kernel.close()
})

test('a refused block throws a StoreError with the refusal code, for a new chain too', async () => {
  const kernel = new CounterKernel()
  await kernel.boot()
  const refused = kernel.count(-1, new Feed())
  await expect(refused).rejects.toBeInstanceOf(StoreError)
  await expect(refused).rejects.toMatchObject({ code: 'STORE_REJECTED' })
  await expect(kernel.createBlock('other', {}, new Feed())).rejects.toMatchObject({
    code: 'STORE_UNHANDLED',
  })
  expect(kernel.tally.blocks).toBe(0)
  await kernel.close()
})
