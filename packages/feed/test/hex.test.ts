import { expect, test } from 'vitest'
import { fromHex, toHex } from '../src/index.ts'

/** The reference spelling: two lowercase digits per byte. */
function spelled(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}

test('toHex spells every byte value, in order, in lowercase', () => {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i)
  expect(toHex(all)).toBe(spelled(all))
  expect(toHex(all).slice(0, 8)).toBe('00010203')
  expect(toHex(all).slice(-4)).toBe('feff')
  expect(toHex(new Uint8Array(0))).toBe('')
})

test('toHex reads a view from its offset, and a short input after a long one has no leftovers', () => {
  const bytes = Uint8Array.from({ length: 100 }, (_, i) => (i * 37) & 255)
  const view = bytes.subarray(3, 67)
  expect(toHex(view)).toBe(spelled(view))
  expect(toHex(Buffer.from(view))).toBe(spelled(view)) // a Node Buffer is a Uint8Array
  const long = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7919) & 255) // past the scratch
  expect(toHex(long)).toBe(spelled(long))
  expect(toHex(Uint8Array.of(0xab))).toBe('ab')
  expect(fromHex(toHex(long))).toEqual(long)
})

test('toHex refuses what is not a Uint8Array with FEED_INVALID_INPUT', () => {
  expect(() => toHex([1, 2] as unknown as Uint8Array)).toThrow(
    expect.objectContaining({ code: 'FEED_INVALID_INPUT' }),
  )
})
