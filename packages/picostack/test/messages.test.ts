import { encode } from 'cborg'
import fc from 'fast-check'
import { expect, test } from 'vitest'
import {
  DEFAULT_SYNC_LIMITS,
  decodeMessage,
  encodeMessage,
  MAX_HEIGHT,
  type Message,
  type RangeEntry,
} from '../src/index.ts'

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n })
const height = fc.integer({ min: 1, max: MAX_HEIGHT })
const head = fc.record({ chainId: bytes(64), headId: bytes(64), height })

/** Range entries under distinct two-nibble prefixes, ascending (what a decoder accepts). */
const rangeEntries: fc.Arbitrary<RangeEntry[]> = fc
  .uniqueArray(fc.integer({ min: 0, max: 255 }), { maxLength: 6 })
  .chain((keys) =>
    fc.tuple(
      ...[...keys]
        .sort((a, b) => a - b)
        .map((key) => {
          const prefix = Uint8Array.of(key >> 4, key & 15)
          return fc.oneof(
            fc.constant<RangeEntry>({
              kind: 'fingerprint',
              prefix,
              count: 0,
              fingerprint: undefined,
            }),
            fc.record({
              kind: fc.constant('fingerprint' as const),
              prefix: fc.constant(prefix),
              count: fc.integer({ min: 1, max: MAX_HEIGHT }),
              fingerprint: bytes(32),
            }),
            fc.record({
              kind: fc.constant('items' as const),
              prefix: fc.constant(prefix),
              tags: fc.integer({ min: 1, max: 4 }).chain((n) => bytes(16 * n)),
            }),
            fc.record({
              kind: fc.constant('lacks' as const),
              prefix: fc.constant(prefix),
              lack: fc.uint8Array({ maxLength: 2 }),
              heads: fc.array(head, { maxLength: 2 }),
            }),
          )
        }),
    ),
  )

const message: fc.Arbitrary<Message> = fc.oneof(
  fc.record({
    type: fc.constant('hello' as const),
    version: fc.nat(),
    nodeId: bytes(16),
    nonce: bytes(8),
  }),
  fc.record({
    type: fc.constant('ranges' as const),
    start: fc.boolean(),
    entries: rangeEntries,
    resume: fc.option(
      fc.uint8Array({ minLength: 1, maxLength: 8 }).map((b) => b.map((x) => x & 15)),
      { nil: undefined },
    ),
  }),
  fc.record({
    type: fc.constant('have' as const),
    heads: fc.array(head, { minLength: 1, maxLength: 3 }),
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
    version: 2,
    nodeId: new Uint8Array(16).fill(0xaa),
    nonce: new Uint8Array(8).fill(0xbb),
  })
  expect(Buffer.from(hello).toString('hex')).toBe(`84010250${'aa'.repeat(16)}48${'bb'.repeat(8)}`)
})

test('size limits of ranges, haves and queries', () => {
  const h = { chainId: new Uint8Array(64), headId: new Uint8Array(64), height: 1 }
  const small = { maxPatchChains: 2, maxQueryBytes: 2, maxRanges: 2, maxItems: 2 }
  const have = encodeMessage({ type: 'have', heads: [h, h, h] })
  expect(() => decodeMessage(have, small)).toThrow(
    expect.objectContaining({ code: 'KERNEL_TOO_LARGE' }),
  )
  const fp = (nibble: number): RangeEntry => ({
    kind: 'fingerprint',
    prefix: Uint8Array.of(nibble),
    count: 0,
    fingerprint: undefined,
  })
  const ranges = (entries: RangeEntry[]) =>
    encodeMessage({ type: 'ranges', start: false, entries, resume: undefined })
  expect(() => decodeMessage(ranges([fp(1), fp(2), fp(3)]), small)).toThrow(
    expect.objectContaining({ code: 'KERNEL_TOO_LARGE' }),
  )
  const tags = { kind: 'items' as const, prefix: Uint8Array.of(4), tags: new Uint8Array(48) }
  expect(() => decodeMessage(ranges([tags]), small)).toThrow(
    expect.objectContaining({ code: 'KERNEL_TOO_LARGE' }),
  )
  const query = encodeMessage({ type: 'query', payload: new Uint8Array(3) })
  expect(() => decodeMessage(query, { maxPatchChains: 2, maxQueryBytes: 2 })).toThrow(
    expect.objectContaining({ code: 'KERNEL_TOO_LARGE' }),
  )
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
  const limits = { maxPatchChains: 1, maxQueryBytes: 2 }
  expect(() => decodeMessage(patch, limits)).toThrow(
    expect.objectContaining({ code: 'KERNEL_TOO_LARGE' }),
  )
  const empty = Uint8Array.of(0x82, 0x03, 0x80) // [3, []]
  expect(() => decodeMessage(empty, DEFAULT_SYNC_LIMITS)).toThrow(
    expect.objectContaining({ code: 'KERNEL_PROTOCOL' }),
  )
})

test('ranges out of order, overlapping, with bad nibbles or a wrong fingerprint shape are KERNEL_PROTOCOL', () => {
  const fp = (prefix: number[]) => [0, Uint8Array.from(prefix), 0]
  const raw = (entries: unknown[]) => encode([11, false, entries, new Uint8Array(0)])
  for (const entries of [
    [fp([2]), fp([1])], // descending
    [fp([1]), fp([1])], // repeated
    [fp([1]), fp([1, 3])], // overlapping
    [fp([16])], // not a nibble
    [[0, Uint8Array.of(1), 1]], // count 1 without a fingerprint
    [[0, Uint8Array.of(1), 0, new Uint8Array(32)]], // count 0 with one
    [[1, Uint8Array.of(1), new Uint8Array(15)]], // tags not a multiple of 16 B
    [[1, Uint8Array.of(1), new Uint8Array(0)]], // no tags
    [[3, Uint8Array.of(1), 0]], // unknown kind
    [fp(Array.from({ length: 129 }, () => 0))], // deeper than a chain id
  ]) {
    expect(() => decodeMessage(raw(entries), DEFAULT_SYNC_LIMITS)).toThrow(
      expect.objectContaining({ code: 'KERNEL_PROTOCOL' }),
    )
  }
})

test('exact bytes of a ranges message and of a genesis segment (no chain id repeated)', () => {
  const ranges = encodeMessage({
    type: 'ranges',
    start: true,
    entries: [
      { kind: 'fingerprint', prefix: Uint8Array.of(0xa), count: 0, fingerprint: undefined },
      {
        kind: 'fingerprint',
        prefix: Uint8Array.of(0xb),
        count: 300,
        fingerprint: new Uint8Array(32).fill(0xcc),
      },
    ],
    resume: undefined,
  })
  expect(Buffer.from(ranges).toString('hex')).toBe(
    `840bf582` + `8300410a00` + `8400410b19012c5820${'cc'.repeat(32)}` + `40`,
  )
  // A segment whose first block is its chain's genesis: [feed] alone.
  const feed = new Uint8Array(4 + 64 + 2)
  feed.set([0x50, 0x49, 0x43, 0x30])
  feed.fill(0xdd, 4, 68)
  const patch = encodeMessage({
    type: 'patch',
    segments: [{ chainId: feed.slice(4, 68), height: 1, feed }],
  })
  expect(Buffer.from(patch).toString('hex')).toBe(
    `82038181${'5846'}${Buffer.from(feed).toString('hex')}`,
  )
  expect(decodeMessage(patch, DEFAULT_SYNC_LIMITS)).toEqual({
    type: 'patch',
    segments: [{ chainId: feed.slice(4, 68), height: 1, feed }],
  })
})
