/**
 * WriteSet.addRegistryOps: a later op on a key takes the place of the earlier one (one
 * write per key per batch), and keys whose hashes collide, even more of them than a hash
 * bucket holds, are still written with their last value.
 */
import { toHex } from '@picostack/feed'
import { expect, it } from 'vitest'
import { WriteSet } from '../src/write-set.ts'

type Op = Parameters<WriteSet['addRegistryOps']>[0][number]

const put = (key: Uint8Array, value: number): Op => ({
  type: 'put',
  key,
  value: Uint8Array.of(value),
})

/** What a batch of `ops` leaves under each key (hex), applied in order. */
function applied(ops: readonly Op[]): Map<string, number | undefined> {
  const out = new Map<string, number | undefined>()
  for (const op of ops) out.set(toHex(op.key), op.type === 'put' ? op.value[0] : undefined)
  return out
}

/**
 * Eight distinct keys with one 32-bit FNV-1a hash: a store-like prefix, then one of two
 * 6-byte blocks three times, each pair colliding from the state before it (found by a
 * birthday search over random blocks; Joux's construction gives 2^3 keys from 3 pairs).
 */
const PREFIX = [7, 5, 115, 116, 111, 114, 101, 111]
const PAIRS = [
  [
    [42, 241, 208, 117, 79, 22],
    [129, 1, 75, 228, 148, 178],
  ],
  [
    [33, 7, 109, 141, 209, 32],
    [98, 15, 108, 16, 38, 90],
  ],
  [
    [142, 6, 148, 41, 189, 39],
    [247, 155, 216, 52, 105, 124],
  ],
]
const COLLIDING = [0, 1, 2, 3, 4, 5, 6, 7].map(
  (n) =>
    new Uint8Array([
      ...PREFIX,
      ...PAIRS[0]![n & 1]!,
      ...PAIRS[1]![(n >> 1) & 1]!,
      ...PAIRS[2]![n >> 2]!,
    ]),
)

it('keeps one op per key, in the place of its first, with the last value', () => {
  const ws = new WriteSet(0)
  const a = Uint8Array.of(7, 1, 0x73, 1)
  const b = Uint8Array.of(7, 1, 0x73, 2)
  ws.addRegistryOps([put(a, 1), put(b, 2)])
  ws.addRegistryOps([put(Uint8Array.of(7, 1, 0x73, 1), 3)]) // equal bytes, another array
  ws.addRegistryOps([{ type: 'del', key: b }])
  expect(ws.ops).toEqual([put(a, 3), { type: 'del', key: b }])
})

it('writes colliding keys with their last values, past a full hash bucket', () => {
  const ws = new WriteSet(0)
  const ops: Op[] = []
  for (let round = 0; round < 3; round++) {
    const batch = COLLIDING.map((key, i) => put(key.slice(), round * 10 + i))
    ops.push(...batch)
    ws.addRegistryOps(batch)
  }
  expect(applied(ws.ops)).toEqual(applied(ops))
  expect(new Set(applied(ws.ops).values())).toEqual(new Set([20, 21, 22, 23, 24, 25, 26, 27]))
  // The bucket's 4 keys are written once each; the other 4 are appended in every round
  // (without a collision all 8 would be written once: 8 ops).
  expect(ws.ops).toHaveLength(4 + 4 * 3)
})
