import { expect, test } from 'vitest'
import { type Clock, getPublicKey, SimpleKernel, toHex } from '../src/index.ts'
import { CounterKernel } from './helpers.ts'

/** A clock that stands still at `at` until told otherwise (no timer ever fires). */
function frozenClock(at: number): Clock {
  return { now: () => at, setTimeout: () => 0, clearTimeout: () => {} }
}

/** Deterministic bytes: `seed`, `seed + 1`, ... (mod 256), continuing across calls. */
function countingBytes(seed: number) {
  let next = seed
  return (length: number) => Uint8Array.from({ length }, () => next++ & 0xff)
}

test('createBlock dates blocks with the injected clock', async () => {
  const kernel = new CounterKernel(undefined, { clock: frozenClock(1_234_567) })
  await kernel.boot()
  const patch = await kernel.count(7)
  expect(SimpleKernel.decodeBlock(patch.last!.body)).toEqual({
    type: 'count',
    n: 7,
    date: 1_234_567,
  })
  await kernel.close()
})

test('node id and a new identity come from the injected randomBytes', async () => {
  const kernel = new SimpleKernel(undefined, { randomBytes: countingBytes(0) })
  // The node id is drawn first (16 B: 0..15), the identity's seed at boot (32 B: 16..47).
  expect(toHex(kernel.nodeId)).toBe(toHex(Uint8Array.from({ length: 16 }, (_, i) => i)))
  await kernel.boot()
  expect(kernel.pk).toBe(getPublicKey(Uint8Array.from({ length: 32 }, (_, i) => 16 + i)))
  await kernel.close()
})
