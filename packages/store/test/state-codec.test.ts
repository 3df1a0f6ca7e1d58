import { toHex } from '@picostack/feed'
import { encode } from 'cborg'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { objectFrom, objectValue, sliceFrom, sliceValue } from '../src/records.ts'
import { decodeState, encodeState, HEX_MIN } from '../src/state-codec.ts'

const lowerHex = (minLength: number, maxLength: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength, maxLength })

/** Hex-looking strings of every length and case, the cases the codec must tell apart. */
const hexish = fc.oneof(
  lowerHex(0, 140),
  fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), maxLength: 140 }),
)

/** -0 is out: cborg writes it as the integer 0, with or without this codec. */
const number = fc.oneof(
  fc.integer(),
  fc.double().map((n) => (Object.is(n, -0) ? 0 : n)),
)

/** Nested JSON-ish app values: hex strings, text, numbers, bytes, null, arrays, maps. */
function values(leafString: fc.Arbitrary<string>) {
  return fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      leafString,
      number,
      fc.boolean(),
      fc.constant(null),
      fc.uint8Array({ maxLength: 40 }),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(leafString, tie('value'), { maxKeys: 4, noNullPrototype: true }),
    ),
  })).value
}

const isTagged = (s: string) => s.length >= HEX_MIN && s.length % 2 === 0 && /^[0-9a-f]*$/.test(s)

describe('state codec (hex strings as tag-23 byte strings)', () => {
  it('writes a to-do task: its id and owner as tag 23 around their bytes (139 B, not 233)', () => {
    const task = {
      id: 'ab'.repeat(64),
      owner: 'cd'.repeat(32),
      assignee: null,
      title: 'milk',
      done: false,
    }
    const bytes = encodeState(task)
    // a5 map(5), keys by cborg's order; d7 tag 23, 58 40 bytes(64) / 58 20 bytes(32)
    expect(toHex(bytes)).toBe(
      `a5626964d75840${'ab'.repeat(64)}64646f6e65f4656f776e6572d75820${'cd'.repeat(32)}` +
        '657469746c65646d696c6b6861737369676e6565f6',
    )
    expect(bytes.length).toBe(139)
    expect(encode(task).length).toBe(233)
    expect(decodeState(bytes)).toStrictEqual(task)
  })

  it('round-trips exactly, types kept: a string stays a string, bytes stay bytes', () => {
    fc.assert(
      fc.property(values(fc.oneof(hexish, fc.string())), (value) => {
        expect(decodeState(encodeState(value))).toStrictEqual(value)
      }),
      { numRuns: 2000 },
    )
  })

  it('a value with no taggable string is written byte for byte as plain cborg writes it', () => {
    const plain = fc.oneof(hexish, fc.string()).filter((s) => !isTagged(s))
    fc.assert(
      fc.property(values(plain), (value) => {
        expect(toHex(encodeState(value))).toBe(toHex(encode(value)))
      }),
      { numRuns: 2000 },
    )
  })

  it('map keys stay text, in cborg order, even when they are hex', () => {
    const keyed = fc.dictionary(fc.oneof(lowerHex(HEX_MIN, 70), fc.string()), fc.integer(), {
      maxKeys: 6,
    })
    fc.assert(
      fc.property(keyed, (map) => {
        expect(toHex(encodeState(map))).toBe(toHex(encode(map)))
      }),
    )
    const key = 'ef'.repeat(32)
    const value = { [key]: key }
    const bytes = encodeState(value)
    // a1 map(1), 78 40 text(64) key, d7 58 20 tag 23 bytes(32) value
    expect(toHex(bytes)).toBe(`a17840${toHex(new TextEncoder().encode(key))}d75820${key}`)
    expect(decodeState(bytes)).toStrictEqual(value)
  })

  it('tags lowercase hex of even length from HEX_MIN characters only', () => {
    const tagged = (s: string) => encodeState(s)[0] === 0xd7
    expect(tagged('0'.repeat(HEX_MIN))).toBe(true)
    expect(tagged('0'.repeat(HEX_MIN - 2))).toBe(false)
    expect(tagged('0'.repeat(HEX_MIN + 1))).toBe(false)
    expect(tagged(`${'0'.repeat(HEX_MIN - 1)}A`)).toBe(false)
    expect(tagged(`${'0'.repeat(HEX_MIN - 1)}g`)).toBe(false)
    expect(tagged(`${'0'.repeat(HEX_MIN - 1)}/`)).toBe(false)
    expect(tagged(`${'0'.repeat(HEX_MIN - 1)}:`)).toBe(false)
    expect(tagged(`${'0'.repeat(HEX_MIN - 1)}\``)).toBe(false)
  })

  it('leaves the string the key holds as text, and only that one', () => {
    const id = 'ab'.repeat(64)
    const owner = 'cd'.repeat(32)
    const bytes = encodeState({ id, owner }, id)
    // a2 map(2), 62 'id' 78 80 text(128), 65 'owner' d7 58 20 tag 23 bytes(32)
    expect(toHex(bytes)).toBe(
      `a26269647880${toHex(new TextEncoder().encode(id))}656f776e6572d75820${owner}`,
    )
    expect(decodeState(bytes)).toStrictEqual({ id, owner })
    // the next value without `keep` tags it again
    expect(encodeState(id)[0]).toBe(0xd7)
    fc.assert(
      fc.property(values(fc.oneof(hexish, fc.string())), hexish, (value, keep) => {
        expect(decodeState(encodeState(value, keep))).toStrictEqual(value)
      }),
      { numRuns: 500 },
    )
  })

  it("an app's own bytes stay bytes, hex-looking or not", () => {
    const bytes = new TextEncoder().encode('ab'.repeat(32))
    const read = decodeState(encodeState({ bytes, raw: Uint8Array.of(0xab, 0xcd) })) as {
      bytes: unknown
      raw: unknown
    }
    expect(read.bytes).toBeInstanceOf(Uint8Array)
    expect(read.bytes).toStrictEqual(bytes)
    expect(read.raw).toStrictEqual(Uint8Array.of(0xab, 0xcd))
  })

  it('reads values written without the tag (plain cborg) as before', () => {
    const old = { id: 'ab'.repeat(64), n: 1 }
    expect(decodeState(encode(old))).toStrictEqual(old)
  })

  it('refuses a circular value, on either path, and tag 23 around anything but bytes', () => {
    const loop: Record<string, unknown> = { a: 1 }
    loop.b = loop
    expect(() => encodeState(loop)).toThrow()
    const hexLoop: Record<string, unknown> = { ['00'.repeat(HEX_MIN)]: 1 }
    hexLoop.self = [hexLoop]
    expect(() => encodeState(hexLoop)).toThrow()
    expect(() => decodeState(Uint8Array.of(0xd7, 0x61, 0x61))).toThrow()
  })

  it('records: a task object and a slice state round-trip through their records', () => {
    const id = '12'.repeat(64)
    const value = { id, owner: '34'.repeat(32), assignee: '56'.repeat(32), title: 'x', done: true }
    const entry = {
      value,
      blocks: new Set([id]),
      expiresAt: 99,
      orderKeys: { byOwner: '34'.repeat(32) },
      indexKeys: ['78'.repeat(32)],
    }
    const record = objectValue(id, entry)
    expect(objectFrom(record)).toStrictEqual({
      value,
      expiresAt: 99,
      orderKeys: entry.orderKeys,
      indexKeys: entry.indexKeys,
      own: true,
      others: 0,
    })
    // the id stays text (its key holds it); 4 strings of 64 hex characters: 32 B saved
    // each, 1 B of tag more
    const plain = encode([value, 99, entry.orderKeys, entry.indexKeys, true, 0])
    expect(plain.length - record.length).toBe(4 * 32 - 4 * 1)
    expect(toHex(record)).toContain(toHex(encode(id)))
    const state = { members: ['9a'.repeat(32)], count: 1 }
    expect(sliceFrom(sliceValue('team', state))).toStrictEqual({ name: 'team', state })
  })
})
