import { encode as cborg } from 'cborg'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { encode } from '../src/cbor.ts'

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')
/** The bytes as hex, or the error's message when it throws. */
const outcome = (encoder: (value: unknown) => Uint8Array, value: unknown) => {
  try {
    return hex(encoder(value))
  } catch (cause) {
    return `throws ${(cause as Error).message}`
  }
}

/** Values as records hold them: what the store's own encoder writes itself. */
const recordLike = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string({ unit: 'grapheme-ascii' }),
    fc.string({ unit: 'binary' }), // lone surrogates too
    fc.maxSafeInteger(),
    fc.integer({ min: -30, max: 300 }),
    fc.constantFrom(
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      -0,
      0,
      2 ** 32,
      2 ** 53 - 1,
    ),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.uint8Array({ maxLength: 80 }),
    fc.array(tie('value'), { maxLength: 6 }),
    fc.dictionary(fc.string({ unit: 'grapheme-ascii', maxLength: 9 }), tie('value'), {
      maxKeys: 9,
    }),
  ),
})).value

describe('record encoder', () => {
  it('writes what cborg writes, for record-like values and for anything', () => {
    fc.assert(
      fc.property(recordLike, (value) => {
        expect(hex(encode(value))).toBe(hex(cborg(value)))
      }),
      { numRuns: 3000 },
    )
    fc.assert(
      fc.property(fc.anything({ withNullPrototype: true, withBigInt: true }), (value) => {
        expect(outcome(encode, value)).toBe(outcome(cborg, value))
      }),
      { numRuns: 1000 },
    )
  })

  it('a to-do record, maps sorted shorter key first, large records, and what cborg refuses', () => {
    const task = {
      id: 'a'.repeat(128),
      title: 'water the plants',
      status: 'todo',
      owner: 'b'.repeat(64),
      assignee: null,
      created: 1764750000000,
      updated: 1764750000000,
      ttlMs: 86400000,
    }
    const record = [task, 1764836400000, { created: '0001764750000000' }, [], true, 0]
    expect(hex(encode(record))).toBe(hex(cborg(record)))
    expect(hex(encode({ bb: 1, a: 2, c: 3, é: 4 }))).toBe(hex(cborg({ bb: 1, a: 2, c: 3, é: 4 })))
    expect(hex(encode({ b: 1, a: [Number.POSITIVE_INFINITY] }))).toBe('a2616181f97c006162' + '01')
    const large = { blob: new Uint8Array(20_000).fill(7), text: 'x'.repeat(70_000) }
    expect(hex(encode(large))).toBe(hex(cborg(large)))
    expect(hex(encode(record))).toBe(hex(cborg(record))) // after a large one
    const circular: Record<string, unknown> = { a: 1 }
    circular.self = circular
    expect(() => encode(circular)).toThrow(/circular/)
    expect(() => encode(new Date(0))).toThrow(/unsupported/)
  })
})
