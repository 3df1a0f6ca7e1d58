import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bytesEqual, Feed, toHex } from '@picostack/feed'
import { afterEach, beforeEach, expect, test } from 'vitest'
import { KernelError } from '../src/index.ts'
import { CounterKernel } from './helpers.ts'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'picostack-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

test('identity, main feed and state survive a restart on classic-level', async () => {
  const path = join(dir, 'db')
  const first = new CounterKernel(path)
  await first.boot()
  await first.boot() // idempotent
  const pk = first.pk
  await first.count(1)
  await first.count(2)
  // A branch by the same author must not become the main feed.
  const branch = await first.count(100, new Feed())
  await first.count(101, branch)
  await first.count(3)
  const before = (await first.feed())!
  expect(before.length).toBe(3)
  const tally = first.tally
  expect(tally).toMatchObject({ blocks: 5, sum: 1 + 2 + 100 + 101 + 3 })
  await first.close()
  await first.close() // idempotent

  const second = new CounterKernel(path)
  await second.boot()
  expect(second.pk).toBe(pk)
  expect(second.tally).toEqual(tally)
  const reopened = (await second.feed())!
  expect(reopened.length).toBe(3)
  expect(bytesEqual(reopened.buffer, before.buffer)).toBe(true)
  const patch = await second.count(4)
  expect(patch.length).toBe(1)
  expect(bytesEqual(patch.first!.psig, before.last!.sig)).toBe(true)
  const after = (await second.feed())!
  expect(after.length).toBe(4)
  expect(toHex(after.first!.sig)).toBe(toHex(before.first!.sig))
  expect(toHex(after.last!.key!)).toBe(pk)
  await second.close()
})

test('a given secret is the identity; another secret starts another main feed', async () => {
  const path = join(dir, 'db')
  const secret = '11'.repeat(32)
  const first = new CounterKernel(path, { secret })
  await first.boot()
  const pk = first.pk
  await first.count(1)
  await first.close()
  const again = new CounterKernel(path, { secret })
  await again.boot()
  expect(again.pk).toBe(pk)
  expect((await again.feed())!.length).toBe(1)
  await again.close()
  const other = new CounterKernel(path, { secret: '22'.repeat(32) })
  await other.boot()
  expect(other.pk).not.toBe(pk)
  expect(await other.feed()).toBeUndefined()
  await other.count(1)
  expect((await other.feed())!.length).toBe(1)
  await other.close()
})

test('a rejected block throws STORE_REJECTED and is neither stored nor the head', async () => {
  const kernel = new CounterKernel()
  await kernel.boot()
  await kernel.count(1)
  const head = (await kernel.feed())!.last!
  await expect(kernel.count(-1)).rejects.toMatchObject({ code: 'STORE_REJECTED' })
  await expect(kernel.createBlock('other', { n: 2 })).rejects.toMatchObject({
    code: 'STORE_UNHANDLED',
  })
  const feed = (await kernel.feed())!
  expect(feed.length).toBe(1)
  expect(bytesEqual(feed.last!.sig, head.sig)).toBe(true)
  expect(kernel.tally.blocks).toBe(1)
  const next = await kernel.count(2)
  expect(bytesEqual(next.first!.psig, head.sig)).toBe(true)
  await kernel.close()
  await expect(kernel.count(3)).rejects.toBeInstanceOf(KernelError)
  await expect(kernel.count(3)).rejects.toMatchObject({ code: 'KERNEL_CLOSED' })
})

test('methods before boot throw KERNEL_NOT_BOOTED', async () => {
  const kernel = new CounterKernel()
  expect(() => kernel.pk).toThrow(expect.objectContaining({ code: 'KERNEL_NOT_BOOTED' }))
  expect(() => kernel.spawnWire()).toThrow(expect.objectContaining({ code: 'KERNEL_NOT_BOOTED' }))
  await expect(kernel.count(1)).rejects.toMatchObject({ code: 'KERNEL_NOT_BOOTED' })
  await kernel.close()
})

test('createBlock is O(1): concurrent appends chain in call order', async () => {
  const kernel = new CounterKernel()
  await kernel.boot()
  const patches = await Promise.all([1, 2, 3, 4, 5].map((n) => kernel.count(n)))
  const feed = (await kernel.feed())!
  expect(feed.length).toBe(5)
  for (const [i, patch] of patches.entries()) {
    expect(bytesEqual(patch.last!.sig, feed.block(i)!.sig)).toBe(true)
    expect(CounterKernel.decodeBlock(patch.last!.body).n).toBe(i + 1)
  }
  await kernel.close()
})

test('limits are checked when the kernel is made', () => {
  for (const limits of [
    { burst: 0 },
    { ratePerSec: Number.NaN },
    { maxPatchBytes: 1024 },
    { maxMessageBytes: 256 * 1024 },
  ]) {
    expect(() => new CounterKernel(undefined, { limits })).toThrow(
      expect.objectContaining({ code: 'KERNEL_INVALID_INPUT' }),
    )
  }
})
