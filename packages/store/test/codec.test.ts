import { toHex } from '@picostack/feed'
import { encode } from 'cborg'
import { describe, expect, it } from 'vitest'
import { decodeBlock, decodeBody, encodeBlock, StoreError } from '../src/index.ts'

function code(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return err instanceof StoreError ? err.code : 'not a StoreError'
  }
  return undefined
}

describe('block body codec', () => {
  it('encodes [type, payload, date] as CBOR, first byte 0x83', () => {
    const body = encodeBlock('tick', { time: 5 }, 7)
    // 83 = array(3), 64 'tick', a1 map(1) 64 'time' 05, 07
    expect(toHex(body)).toBe('83647469636ba16474696d650507')
    expect(body[0]).toBe(0x83)
  })

  it('decodeBlock spreads object payloads and wraps the rest', () => {
    expect(decodeBlock(encodeBlock('tick', { time: 5 }, 7))).toEqual({
      time: 5,
      type: 'tick',
      date: 7,
    })
    expect(decodeBlock(encodeBlock('n', 42, 7))).toEqual({ type: 'n', date: 7, payload: 42 })
    expect(decodeBlock(encodeBlock('l', [1, 2], 7))).toEqual({
      type: 'l',
      date: 7,
      payload: [1, 2],
    })
    const bytes = decodeBlock(encodeBlock('b', new Uint8Array([1, 2]), 7))
    expect(bytes.payload).toEqual(new Uint8Array([1, 2]))
  })

  it('the type and date in the body win over payload keys of the same name', () => {
    expect(decodeBlock(encodeBlock('t', { type: 'x', date: 1, a: 1 }, 9))).toEqual({
      type: 't',
      date: 9,
      a: 1,
    })
  })

  it('malformed bodies throw STORE_DECODE', () => {
    expect(code(() => decodeBody(new Uint8Array([0xff, 0x00])))).toBe('STORE_DECODE')
    expect(code(() => decodeBody(new TextEncoder().encode('hello')))).toBe('STORE_DECODE')
    expect(code(() => decodeBody(encode(['a', 1])))).toBe('STORE_DECODE')
    expect(code(() => decodeBody(encode([1, 1, 1])))).toBe('STORE_DECODE')
    expect(code(() => decodeBody(encode(['a', 1, 'x'])))).toBe('STORE_DECODE')
    expect(code(() => decodeBlock(encode({ type: 'a' })))).toBe('STORE_DECODE')
    expect(code(() => decodeBody(new Uint8Array(0)))).toBe('STORE_DECODE')
  })

  it('encodeBlock refuses a bad type, date or payload with STORE_DECODE', () => {
    expect(code(() => encodeBlock(1 as unknown as string, {}))).toBe('STORE_DECODE')
    expect(code(() => encodeBlock('a', {}, Number.NaN))).toBe('STORE_DECODE')
    expect(code(() => encodeBlock('a', { f: () => 1 }))).toBe('STORE_DECODE')
  })
})
