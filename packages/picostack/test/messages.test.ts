import { Feed, signPair } from '@picostack/feed'
import { encode } from 'cborg'
import fc from 'fast-check'
import { expect, test } from 'vitest'
import {
  DEFAULT_SYNC_LIMITS,
  decodeMessage,
  encodeMessage,
  HAVE_OVERHEAD_BYTES,
  MAX_HAVE_HEAD_BYTES,
  MAX_HEIGHT,
  type Message,
  type RangeEntry,
} from '../src/index.ts'

const PIC0 = [0x50, 0x49, 0x43, 0x30]
const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n })
const height = fc.integer({ min: 1, max: MAX_HEIGHT })
const head = fc.record({ chainId: bytes(64), headId: bytes(64), height })
/** Lacks heads, ascending by index (what a decoder accepts). */
const compactHeads = fc
  .uniqueArray(fc.integer({ min: 0, max: 47 }), { maxLength: 2 })
  .chain((indices) =>
    fc.tuple(
      ...indices
        .sort((a, b) => a - b)
        .map((index) => fc.record({ index: fc.constant(index), height, head: bytes(4) })),
    ),
  )
/** A segment's feed: `PIC0`, then any bytes. */
const feedBytes = fc
  .uint8Array({ maxLength: 300 })
  .map((blocks) => Uint8Array.from([0x50, 0x49, 0x43, 0x30, ...blocks]))

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
            // 4-byte fingerprints up to 48 items, 8-byte ones above.
            fc.integer({ min: 1, max: MAX_HEIGHT }).chain((count) =>
              bytes(count <= 48 ? 4 : 8).map(
                (fingerprint): RangeEntry => ({
                  kind: 'fingerprint',
                  prefix,
                  count,
                  fingerprint,
                }),
              ),
            ),
            // Short (2-byte) or wide (4-byte) chain parts, distinct within the list.
            fc.constantFrom(2, 4).chain((w) =>
              fc
                .uniqueArray(fc.integer({ min: 0, max: 2 ** (8 * w) - 1 }), {
                  minLength: 1,
                  maxLength: 4,
                })
                .chain((parts) =>
                  fc
                    .tuple(bytes(4 * parts.length), fc.nat({ max: parts.length }))
                    .map(([heads, later]): RangeEntry => {
                      // The first `later` items have a head part, the rest are at their genesis.
                      const tags = new Uint8Array((w + 4) * later)
                      const genesis = new Uint8Array(w * (parts.length - later))
                      const put = (to: Uint8Array, at: number, part: number) =>
                        w === 2
                          ? new DataView(to.buffer).setUint16(at, part)
                          : new DataView(to.buffer).setUint32(at, part)
                      for (const [i, part] of parts.entries()) {
                        if (i < later) {
                          put(tags, (w + 4) * i, part)
                          tags.set(heads.subarray(4 * i, 4 * i + 4), (w + 4) * i + w)
                        } else {
                          put(genesis, w * (i - later), part)
                        }
                      }
                      return { kind: 'items', prefix, part: w, tags, genesis }
                    }),
                ),
            ),
            fc.record({
              kind: fc.constant('lacks' as const),
              prefix: fc.constant(prefix),
              lack: fc.uint8Array({ maxLength: 2 }),
              heads: compactHeads,
              check: bytes(2),
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
    salt: fc.option(bytes(16), { nil: undefined }),
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
    segments: fc.array(fc.record({ chainId: bytes(64), height, feed: feedBytes }), {
      minLength: 1,
      maxLength: 4,
    }),
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

test('a have of as many tallest heads as the outbox packs fits in maxMessageBytes', () => {
  const { maxMessageBytes } = DEFAULT_SYNC_LIMITS
  const head = { chainId: new Uint8Array(64), headId: new Uint8Array(64), height: MAX_HEIGHT }
  const fit = Math.floor((maxMessageBytes - HAVE_OVERHEAD_BYTES) / MAX_HAVE_HEAD_BYTES)
  const have = encodeMessage({ type: 'have', heads: new Array(fit).fill(head) })
  expect(have.length).toBeLessThanOrEqual(maxMessageBytes)
  expect(have.length).toBeGreaterThan(maxMessageBytes - 2 * MAX_HAVE_HEAD_BYTES) // the bound is tight
  expect(fit).toBeLessThan(DEFAULT_SYNC_LIMITS.maxItems) // maxItems alone would not fit
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
    encodeMessage({ type: 'ranges', salt: undefined, entries, resume: undefined })
  expect(() => decodeMessage(ranges([fp(1), fp(2), fp(3)]), small)).toThrow(
    expect.objectContaining({ code: 'KERNEL_TOO_LARGE' }),
  )
  const tags = {
    kind: 'items' as const,
    prefix: Uint8Array.of(4),
    part: 4,
    tags: new Uint8Array(8),
    genesis: new Uint8Array(8),
  }
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
    segments: [segment(0xaa, 1, [...PIC0, 0x01, 0x02]), segment(0xbb, 300, PIC0)],
  })
  // Each segment's blocks without PIC0; the first block of the first is not its chain id.
  expect(Buffer.from(patch).toString('hex')).toBe(
    `82038283${'5840'}${'aa'.repeat(64)}01420102` + `83${'5840'}${'bb'.repeat(64)}19012c40`,
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

test('ranges out of order, overlapping, with bad nibbles, a wrong fingerprint, tag, head or salt shape are KERNEL_PROTOCOL', () => {
  const fp = (prefix: number[]) => [0, Uint8Array.from(prefix), 0]
  const raw = (entries: unknown[], salt: unknown = new Uint8Array(0)) =>
    encode([11, salt, entries, new Uint8Array(0)])
  const tag = (part: number) => Uint8Array.of(0, part, 9, 9, 9, 9) // a short tag
  const none = new Uint8Array(0)
  const check = new Uint8Array(2)
  const lacks = (heads: unknown[]) => [[2, Uint8Array.of(1), Uint8Array.of(0), check, heads]]
  for (const entries of [
    [fp([2]), fp([1])], // descending
    [fp([1]), fp([1])], // repeated
    [fp([1]), fp([1, 3])], // overlapping
    [fp([16])], // not a nibble
    [[0, Uint8Array.of(1), 1]], // count 1 without a fingerprint
    [[0, Uint8Array.of(1), 0, new Uint8Array(8)]], // count 0 with one
    [[0, Uint8Array.of(1), 1, new Uint8Array(32)]], // a fingerprint not of 8 B
    [[1, Uint8Array.of(1), new Uint8Array(8), none]], // short tags not a multiple of 6 B
    [[1, Uint8Array.of(1), none, new Uint8Array(3)]], // short genesis tags not a multiple of 2 B
    [[4, Uint8Array.of(1), new Uint8Array(6), none]], // wide tags not a multiple of 8 B
    [[4, Uint8Array.of(1), none, new Uint8Array(2)]], // wide genesis tags not a multiple of 4 B
    [[1, Uint8Array.of(1), none, none]], // no tags
    [[1, Uint8Array.of(1), tag(1)]], // no genesis tags (an array of 3)
    [[1, Uint8Array.of(1), 2, tag(1), none]], // an array of 5 (a width field is not a layout)
    [[1, Uint8Array.of(1), Uint8Array.from([...tag(1), ...tag(2), ...tag(1)]), none]], // a chain part twice
    [[1, Uint8Array.of(1), tag(1), Uint8Array.of(0, 1)]], // twice across the two lists
    [[2, Uint8Array.of(1), none]], // a lacks entry without its check
    [[2, Uint8Array.of(1), none, new Uint8Array(4)]], // a check not of 2 B
    lacks([]), // an empty heads array (heads are left out when there are none)
    lacks([
      [1, 5, new Uint8Array(4)],
      [1, 6, new Uint8Array(4)],
    ]), // head indices not ascending
    lacks([[1, 5, new Uint8Array(8)]]), // a head part not of 4 B
    lacks([[1, 0, new Uint8Array(4)]]), // height 0
    lacks([[-1, 5, new Uint8Array(4)]]), // a negative index
    lacks([[1, 5]]), // a head of 2 items
    lacks([[new Uint8Array(64), new Uint8Array(64), 5]]), // a full head (the old layout)
    [[3, Uint8Array.of(1), 0]], // unknown kind
    [fp(Array.from({ length: 129 }, () => 0))], // deeper than a chain id
  ]) {
    expect(() => decodeMessage(raw(entries), DEFAULT_SYNC_LIMITS)).toThrow(
      expect.objectContaining({ code: 'KERNEL_PROTOCOL' }),
    )
  }
  for (const salt of [new Uint8Array(8), true, 0]) {
    expect(() => decodeMessage(raw([], salt), DEFAULT_SYNC_LIMITS)).toThrow(
      expect.objectContaining({ code: 'KERNEL_PROTOCOL' }),
    )
  }
})

test('exact bytes of ranges messages (docs/protocol.md) and of a genesis segment (no chain id repeated)', () => {
  const opening = encodeMessage({
    type: 'ranges',
    salt: new Uint8Array(16).fill(0x55),
    entries: [
      { kind: 'fingerprint', prefix: Uint8Array.of(0xa), count: 0, fingerprint: undefined },
      {
        kind: 'fingerprint',
        prefix: Uint8Array.of(0xb),
        count: 300,
        fingerprint: new Uint8Array(8).fill(0xcc),
      },
    ],
    resume: undefined,
  })
  expect(Buffer.from(opening).toString('hex')).toBe(
    `840b50${'55'.repeat(16)}82` + `8300410a00` + `8400410b19012c48${'cc'.repeat(8)}` + `40`,
  )
  expect(opening.length).toBe(42)
  // A list of range b 3: an item with a head after its genesis, and a one-block chain.
  const items = (part: number): RangeEntry => ({
    kind: 'items',
    prefix: Uint8Array.of(0xb, 0x3),
    part,
    tags: new Uint8Array(part + 4).fill(0xdd),
    genesis: new Uint8Array(part).fill(0xee),
  })
  const one = (entry: RangeEntry) =>
    encodeMessage({ type: 'ranges', salt: undefined, entries: [entry], resume: undefined })
  const list = one(items(2))
  expect(Buffer.from(list).toString('hex')).toBe(
    `840b4081` + `8401420b03` + `46${'dd'.repeat(6)}` + `42${'ee'.repeat(2)}` + `40`,
  )
  expect(list.length).toBe(20)
  // The same list wide (4-byte chain parts), kind 4.
  const wide = one(items(4))
  expect(Buffer.from(wide).toString('hex')).toBe(
    `840b4081` + `8404420b03` + `48${'dd'.repeat(8)}` + `44${'ee'.repeat(4)}` + `40`,
  )
  expect(wide.length).toBe(24)
  for (const bytes of [list, wide]) {
    expect(decodeMessage(bytes, DEFAULT_SYNC_LIMITS)).toMatchObject({
      entries: [{ part: bytes === list ? 2 : 4 }],
    })
  }
  // Its answer: the second item lacked, the first's chain held with another head, at 300.
  const answer = one({
    kind: 'lacks',
    prefix: Uint8Array.of(0xb, 0x3),
    lack: Uint8Array.of(0x40),
    check: Uint8Array.of(0x77, 0x77),
    heads: [{ index: 0, height: 300, head: new Uint8Array(4).fill(0xee) }],
  })
  expect(Buffer.from(answer).toString('hex')).toBe(
    `840b4081` + `8502420b034140427777` + `81` + `830019012c44${'ee'.repeat(4)}` + `40`,
  )
  expect(answer.length).toBe(26)
  // An answer lacking nothing and naming no head: an empty bitmap, the check, no heads.
  const agreed = one({
    kind: 'lacks',
    prefix: Uint8Array.of(0xb, 0x3),
    lack: new Uint8Array(0),
    check: Uint8Array.of(0x77, 0x77),
    heads: [],
  })
  expect(Buffer.from(agreed).toString('hex')).toBe(`840b4081` + `8402420b0340427777` + `40`)
  expect(agreed.length).toBe(14)
  // A segment whose first block is its chain's genesis: its blocks alone, without PIC0.
  const feed = new Uint8Array(4 + 64 + 2)
  feed.set(PIC0)
  feed.fill(0xdd, 4, 68)
  const patch = encodeMessage({
    type: 'patch',
    segments: [{ chainId: feed.slice(4, 68), height: 1, feed }],
  })
  expect(Buffer.from(patch).toString('hex')).toBe(
    `820381${'5842'}${Buffer.from(feed.subarray(4)).toString('hex')}`,
  )
  expect(decodeMessage(patch, DEFAULT_SYNC_LIMITS)).toEqual({
    type: 'patch',
    segments: [{ chainId: feed.slice(4, 68), height: 1, feed }],
  })
})

test("a segment at height 2 that extends its genesis is its blocks in an array: its chain id is the first block's parent", () => {
  const { sk } = signPair()
  const chain = new Feed()
  chain.append('genesis', sk)
  chain.append('second', sk)
  const feed = chain.slice(1).buffer // PIC0, then the second block
  const chainId = chain.first!.sig
  const patch = encodeMessage({ type: 'patch', segments: [{ chainId, height: 2, feed }] })
  const blocks = Buffer.from(encode(feed.subarray(4))).toString('hex') // without PIC0
  expect(Buffer.from(patch).toString('hex')).toBe(`82038181${blocks}`)
  expect(decodeMessage(patch, DEFAULT_SYNC_LIMITS)).toEqual({
    type: 'patch',
    segments: [{ chainId, height: 2, feed }],
  })
  // Elsewhere (another height, or a parent that is not the chain id) the chain id is sent.
  for (const segment of [
    { chainId, height: 3, feed },
    { chainId: new Uint8Array(64), height: 2, feed },
  ]) {
    const full = encodeMessage({ type: 'patch', segments: [segment] })
    expect(full.length).toBe(patch.length + 67) // chain id (66 B) and height (1 B)
    expect(decodeMessage(full, DEFAULT_SYNC_LIMITS)).toEqual({ type: 'patch', segments: [segment] })
  }
  // The short form holding a genesis, or no block at all, is KERNEL_PROTOCOL.
  for (const blocks of [chain.slice(0, 1).buffer.subarray(4), Uint8Array.of(1, 2, 3)]) {
    expect(() => decodeMessage(encode([3, [[blocks]]]), DEFAULT_SYNC_LIMITS)).toThrow(
      expect.objectContaining({ code: 'KERNEL_PROTOCOL' }),
    )
  }
})

test('the 16 children of a parent travel as one split entry and decode to the 16 again', () => {
  const children = (parent: number[]): RangeEntry[] =>
    Array.from({ length: 16 }, (_, nibble) =>
      nibble % 2 === 0
        ? {
            kind: 'fingerprint',
            prefix: Uint8Array.of(...parent, nibble),
            count: 0,
            fingerprint: undefined,
          }
        : {
            kind: 'fingerprint',
            prefix: Uint8Array.of(...parent, nibble),
            count: nibble === 15 ? 300 : 24,
            fingerprint: new Uint8Array(nibble === 15 ? 8 : 4).fill(nibble),
          },
    )
  const entries = [...children([1]), ...children([2, 3]).slice(0, 15)] // a full run, a partial one
  const message = { type: 'ranges' as const, salt: undefined, entries, resume: undefined }
  const bytes = encodeMessage(message)
  expect(decodeMessage(bytes, DEFAULT_SYNC_LIMITS)).toEqual(message)
  // [3, parent 1, 16 counts, the 8 fingerprints of counts > 0]: 68 B instead of 141; the
  // fingerprints of the ranges of 24 items are 4 B, that of 300 items (child 15) 8 B.
  const count = (n: number) => (n % 2 === 0 ? '00' : n === 15 ? '19012c' : '1818')
  const counts = Array.from({ length: 16 }, (_, n) => count(n)).join('')
  const fps = [1, 3, 5, 7, 9, 11, 13, 15].map((n) =>
    n
      .toString(16)
      .padStart(2, '0')
      .repeat(n === 15 ? 8 : 4),
  )
  const split = `84034101` + `90${counts}` + `5824${fps.join('')}`
  expect(Buffer.from(bytes).toString('hex').startsWith(`840b4090${split}`)).toBe(true)
  expect(split.length / 2).toBe(68)
  // 16 entries count 16 against maxRanges.
  expect(() => decodeMessage(bytes, { ...DEFAULT_SYNC_LIMITS, maxRanges: 30 })).toThrow(
    expect.objectContaining({ code: 'KERNEL_TOO_LARGE' }),
  )
  const raw = (split: unknown[]) => encode([11, new Uint8Array(0), [split], new Uint8Array(0)])
  const zeros = Array.from({ length: 16 }, () => 0)
  for (const bad of [
    [3, new Uint8Array(0), zeros.slice(1), new Uint8Array(0)], // 15 counts
    [3, new Uint8Array(0), [1, ...zeros.slice(1)], new Uint8Array(0)], // a count without its fingerprint
    [3, new Uint8Array(0), zeros, new Uint8Array(8)], // a fingerprint without a count
    [3, new Uint8Array(0), zeros], // an array of 3
    [3, new Uint8Array(128), zeros, new Uint8Array(0)], // children deeper than a chain id
  ]) {
    expect(() => decodeMessage(raw(bad), DEFAULT_SYNC_LIMITS)).toThrow(
      expect.objectContaining({ code: 'KERNEL_PROTOCOL' }),
    )
  }
})
