import fc from 'fast-check'
import { expect, test } from 'vitest'
import {
  DEFAULT_SYNC_LIMITS,
  decodeMessage,
  encodeMessage,
  MAX_HEIGHT,
  type Message,
} from '../src/index.ts'

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n })
const height = fc.integer({ min: 1, max: MAX_HEIGHT })

const message: fc.Arbitrary<Message> = fc.oneof(
  fc.record({
    type: fc.constant('hello' as const),
    version: fc.nat(),
    nodeId: bytes(16),
    nonce: bytes(8),
  }),
  fc.record({
    type: fc.constant('summary' as const),
    chains: fc.array(
      fc.record({ chainId: bytes(64), author: bytes(32), headId: bytes(64), height }),
      { maxLength: 5 },
    ),
    last: fc.boolean(),
  }),
  fc.record({
    type: fc.constant('patch' as const),
    segments: fc.array(
      fc.record({ chainId: bytes(64), height, feed: fc.uint8Array({ maxLength: 300 }) }),
      { minLength: 1, maxLength: 4 },
    ),
  }),
  fc.record({
    type: fc.constant('want' as const),
    chainId: bytes(64),
    height: fc.nat(),
    headId: fc.option(bytes(64), { nil: undefined }),
  }),
  fc.record({ type: fc.constant('ack' as const), accepted: fc.nat() }),
  fc.record({
    type: fc.constant('error' as const),
    code: fc.string({ maxLength: 64 }),
    reason: fc.string({ maxLength: 1024 }),
  }),
  fc.record({ type: fc.constant('query' as const), payload: fc.uint8Array({ maxLength: 100 }) }),
  fc.record({ type: fc.constant('answer' as const), payload: fc.uint8Array({ maxLength: 100 }) }),
)

test('every message decodes to itself', () => {
  fc.assert(
    fc.property(message, (m) => {
      expect(decodeMessage(encodeMessage(m), DEFAULT_SYNC_LIMITS)).toEqual(m)
    }),
  )
})

test('decoding is total: any bytes decode or throw KERNEL_PROTOCOL / KERNEL_TOO_LARGE', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (data) => {
      try {
        decodeMessage(data, DEFAULT_SYNC_LIMITS)
      } catch (err) {
        expect(['KERNEL_PROTOCOL', 'KERNEL_TOO_LARGE']).toContain((err as { code: string }).code)
      }
    }),
  )
})

test('exact bytes of a hello', () => {
  const hello = encodeMessage({
    type: 'hello',
    version: 1,
    nodeId: new Uint8Array(16).fill(0xaa),
    nonce: new Uint8Array(8).fill(0xbb),
  })
  expect(Buffer.from(hello).toString('hex')).toBe(`84010150${'aa'.repeat(16)}48${'bb'.repeat(8)}`)
})

test('size limits of summaries and queries', () => {
  const chain = {
    chainId: new Uint8Array(64),
    author: new Uint8Array(32),
    headId: new Uint8Array(64),
    height: 1,
  }
  const page = encodeMessage({ type: 'summary', chains: [chain, chain, chain], last: true })
  expect(() =>
    decodeMessage(page, { maxSummaryChains: 2, maxPatchChains: 2, maxQueryBytes: 1 }),
  ).toThrow(expect.objectContaining({ code: 'KERNEL_TOO_LARGE' }))
  const query = encodeMessage({ type: 'query', payload: new Uint8Array(3) })
  expect(() =>
    decodeMessage(query, { maxSummaryChains: 2, maxPatchChains: 2, maxQueryBytes: 2 }),
  ).toThrow(expect.objectContaining({ code: 'KERNEL_TOO_LARGE' }))
  expect(() =>
    decodeMessage(encodeMessage({ type: 'ack', accepted: 1 }).slice(0, 1), DEFAULT_SYNC_LIMITS),
  ).toThrow(expect.objectContaining({ code: 'KERNEL_PROTOCOL' }))
  // A height the repo cannot store is refused at decode, not deep in a write.
  const tall = { chainId: new Uint8Array(64), feed: new Uint8Array(1) }
  expect(
    decodeMessage(
      encodeMessage({ type: 'patch', segments: [{ ...tall, height: MAX_HEIGHT }] }),
      DEFAULT_SYNC_LIMITS,
    ),
  ).toMatchObject({ type: 'patch' })
  expect(() =>
    decodeMessage(
      encodeMessage({ type: 'patch', segments: [{ ...tall, height: MAX_HEIGHT + 1 }] }),
      DEFAULT_SYNC_LIMITS,
    ),
  ).toThrow(expect.objectContaining({ code: 'KERNEL_PROTOCOL' }))
})

test('exact bytes of a patch of two chains; segment limits', () => {
  const segment = (fill: number, height: number, feed: number[]) => ({
    chainId: new Uint8Array(64).fill(fill),
    height,
    feed: Uint8Array.from(feed),
  })
  const patch = encodeMessage({
    type: 'patch',
    segments: [segment(0xaa, 1, [0x50, 0x49]), segment(0xbb, 300, [])],
  })
  expect(Buffer.from(patch).toString('hex')).toBe(
    `82038283${'5840'}${'aa'.repeat(64)}01425049` + `83${'5840'}${'bb'.repeat(64)}19012c40`,
  )
  const limits = { maxSummaryChains: 2, maxPatchChains: 1, maxQueryBytes: 2 }
  expect(() => decodeMessage(patch, limits)).toThrow(
    expect.objectContaining({ code: 'KERNEL_TOO_LARGE' }),
  )
  const empty = Uint8Array.of(0x82, 0x03, 0x80) // [3, []]
  expect(() => decodeMessage(empty, DEFAULT_SYNC_LIMITS)).toThrow(
    expect.objectContaining({ code: 'KERNEL_PROTOCOL' }),
  )
})
