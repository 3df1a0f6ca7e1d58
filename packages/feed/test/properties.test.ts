/**
 * Invariants of feeds over random inputs (fast-check): byte round trips, slice + merge,
 * forks, single-byte corruption, truncation, and that no operation changes memory a
 * caller holds.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type Block,
  bytesEqual,
  Feed,
  FeedError,
  fromHex,
  getPublicKey,
  toHex,
} from '../src/index.ts'

/** Three fixed authors, so random feeds mix keys. */
const SECRETS = ['1f'.repeat(32), '2e'.repeat(32), 'c0ffee00'.repeat(8)] as const

/** A valid body: bytes whose first byte is non-zero, or a string not starting with NUL. */
const bodyArb = (maxLength: number) =>
  fc.oneof(
    fc
      .uint8Array({ minLength: 1, maxLength })
      .map((b) => (b[0] === 0 ? Uint8Array.of(1, ...b.subarray(1)) : b)),
    fc
      .string({ unit: 'grapheme', minLength: 1, maxLength: Math.max(1, maxLength >> 2) })
      .filter((s) => !s.startsWith('\0')),
  )

type Recipe = { body: Uint8Array | string; author: number }[]

const recipeArb = (minLength: number, maxLength: number, maxBody = 64) =>
  fc.array(fc.record({ body: bodyArb(maxBody), author: fc.nat(SECRETS.length - 1) }), {
    minLength,
    maxLength,
  })

function build(recipe: Recipe, feed = new Feed()): Feed {
  for (const { body, author } of recipe) feed.append(body, SECRETS[author]!)
  return feed
}

/** The code of the FeedError `fn` throws; fails the test on any other throw. */
function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    if (!(err instanceof FeedError)) throw new Error(`not a FeedError: ${String(err)}`)
    return err.code
  }
  return undefined
}

const hex = (bytes: Uint8Array) => toHex(bytes)
const blockHexes = (feed: Feed) => feed.blocks.map((b) => hex(b.buffer))

describe('round trip through bytes', () => {
  it('Feed.from(feed.buffer) is byte-identical with the same blocks and keys', () => {
    fc.assert(
      fc.property(recipeArb(0, 10), (recipe) => {
        const feed = build(recipe)
        const decoded = Feed.from(feed.buffer)
        expect(hex(decoded.buffer)).toBe(hex(feed.buffer))
        expect(decoded.length).toBe(recipe.length)
        expect(blockHexes(decoded)).toEqual(blockHexes(feed))
        for (const [i, block] of decoded.blocks.entries()) {
          const { body, author } = recipe[i]!
          const expected = typeof body === 'string' ? new TextEncoder().encode(body) : body
          expect(hex(block.body)).toBe(hex(expected))
          expect(hex(block.key!)).toBe(getPublicKey(SECRETS[author]!))
          expect(block.genesis).toBe(i === 0)
          expect(hex(block.psig)).toBe(i === 0 ? '00'.repeat(64) : hex(decoded.blocks[i - 1]!.sig))
          expect(block.verify()).toBe(true)
        }
        const authors = [...new Set(recipe.map((r) => getPublicKey(SECRETS[r.author]!)))]
        expect(decoded.keys.map(hex)).toEqual(authors)
      }),
    )
  })

  it('decodes the same without the PIC0 magic, from blocks, and from a feed', () => {
    fc.assert(
      fc.property(recipeArb(1, 8), (recipe) => {
        const feed = build(recipe)
        const expected = hex(feed.buffer)
        expect(hex(Feed.from(feed.buffer.subarray(4)).buffer)).toBe(expected)
        expect(hex(Feed.from(feed.blocks).buffer)).toBe(expected)
        expect(hex(Feed.from(feed).buffer)).toBe(expected)
        expect(hex(feed.clone().buffer)).toBe(expected)
      }),
    )
  })

  it('a feed made from blocks (sized to them) keeps its keys and grows by appends', () => {
    fc.assert(
      fc.property(recipeArb(1, 6), recipeArb(0, 6), (first, more) => {
        const whole = build([...first, ...more])
        const grown = build(more, Feed.from(build(first).blocks))
        expect(hex(grown.buffer)).toBe(hex(whole.buffer))
        expect(grown.keys.map(hex)).toEqual(whole.keys.map(hex))
      }),
    )
  })
})

describe('slice + merge', () => {
  it('reassembles the original from any split point, in either direction', () => {
    fc.assert(
      fc.property(
        recipeArb(1, 10).chain((recipe) => fc.tuple(fc.constant(recipe), fc.nat(recipe.length))),
        ([recipe, split]) => {
          const feed = build(recipe)
          const n = feed.length
          const forward = feed.slice(0, split)
          expect(forward.merge(feed.slice(split))).toBe(n - split)
          expect(hex(forward.buffer)).toBe(hex(feed.buffer))

          const reverse = feed.slice(split)
          // A later part merging the earlier part is a reverse merge, which (as in picofeed
          // v8) counts our blocks re-appended after theirs; an empty side is a plain merge.
          const expected = split === 0 ? 0 : split === n ? n : n - split
          expect(reverse.merge(feed.slice(0, split))).toBe(expected)
          expect(hex(reverse.buffer)).toBe(hex(feed.buffer))
          expect(reverse.partial).toBe(false)
        },
      ),
    )
  })

  it('merges overlapping slices: a prefix takes only what it lacks', () => {
    fc.assert(
      fc.property(
        recipeArb(2, 10).chain((recipe) =>
          fc
            .tuple(fc.nat(recipe.length), fc.nat(recipe.length))
            .map(([x, y]) => [recipe, Math.min(x, y), Math.max(x, y)] as const),
        ),
        ([recipe, start, end]) => {
          const feed = build(recipe)
          const prefix = feed.slice(0, end)
          const suffix = feed.slice(start)
          expect(prefix.merge(suffix)).toBe(feed.length - end)
          expect(hex(prefix.buffer)).toBe(hex(feed.buffer))
        },
      ),
    )
  })

  it('onBlock sees new blocks in order; stop() ends before, stop(true) after the block', () => {
    fc.assert(
      fc.property(
        recipeArb(1, 10).chain((recipe) =>
          fc.tuple(
            fc.constant(recipe),
            fc.nat(recipe.length),
            fc.nat(recipe.length + 1),
            fc.boolean(),
          ),
        ),
        ([recipe, split, stopAt, include]) => {
          const feed = build(recipe)
          const target = feed.slice(0, split)
          const seen: string[] = []
          const merged = target.merge(feed, (block, stop) => {
            if (seen.length === stopAt) stop(include)
            seen.push(hex(block.sig))
          })
          const fresh = feed.length - split
          const expected = stopAt < fresh ? stopAt + (include ? 1 : 0) : fresh
          expect(merged).toBe(expected)
          expect(seen).toEqual(
            feed.blocks.slice(split, split + Math.min(stopAt + 1, fresh)).map((b) => hex(b.sig)),
          )
          expect(hex(target.buffer)).toBe(hex(feed.slice(0, split + expected).buffer))
        },
      ),
    )
  })

  it('leaves the merged-in feed (or bytes) unchanged', () => {
    fc.assert(
      fc.property(
        recipeArb(1, 8).chain((recipe) =>
          fc.tuple(fc.constant(recipe), fc.nat(recipe.length), fc.boolean()),
        ),
        ([recipe, split, asBytes]) => {
          const feed = build(recipe)
          for (const [target, other] of [
            [feed.slice(0, split), feed.slice(split)],
            [feed.slice(split), feed.slice(0, split)],
          ] as const) {
            const before = hex(other.buffer)
            const blocksBefore = blockHexes(other)
            const bytes = other.buffer.slice()
            target.merge(asBytes ? bytes : other)
            expect(hex(other.buffer)).toBe(before)
            expect(blockHexes(other)).toEqual(blocksBefore)
            expect(hex(bytes)).toBe(before)
            // and later changes to the target never reach the argument
            target.append('after', SECRETS[0])
            target.truncate(0)
            expect(hex(other.buffer)).toBe(before)
          }
        },
      ),
    )
  })
})

describe('forks', () => {
  it('a fork at any height is FEED_DIVERGED for diff and -1 for merge', () => {
    fc.assert(
      fc.property(
        recipeArb(0, 6).chain((base) =>
          fc.tuple(fc.constant(base), fc.nat(base.length), recipeArb(1, 3), recipeArb(1, 3)),
        ),
        ([base, height, tailA, tailB]) => {
          const trunk = build(base)
          const a = build(tailA, trunk.slice(0, height))
          const b = build(tailB, trunk.slice(0, height))
          fc.pre(!bytesEqual(a.block(height)!.sig, b.block(height)!.sig))
          const aBytes = hex(a.buffer)
          const bBytes = hex(b.buffer)
          expect(codeOf(() => a.diff(b))).toBe('FEED_DIVERGED')
          expect(codeOf(() => b.diff(a))).toBe('FEED_DIVERGED')
          // the other side's blocks from the fork on (a partial feed) diverge too
          expect(codeOf(() => a.diff(b.slice(height)))).toBe('FEED_DIVERGED')
          expect(a.merge(b)).toBe(-1)
          expect(b.merge(a)).toBe(-1)
          expect(a.merge(b.slice(height))).toBe(-1)
          expect(hex(a.buffer)).toBe(aBytes)
          expect(hex(b.buffer)).toBe(bBytes)
        },
      ),
    )
  })
})

const ALLOWED_CORRUPTION_CODES = ['FEED_SIGNATURE', 'FEED_PARENT', 'FEED_DECODE']

/** Flips `mask` into byte `at` of a copy of `bytes` and returns Feed.from's error code. */
function corruptedCode(bytes: Uint8Array, at: number, mask: number): string | undefined {
  const corrupted = bytes.slice()
  corrupted[at]! ^= mask
  return codeOf(() => Feed.from(corrupted))
}

describe('single-byte corruption', () => {
  it('flipping any byte of a small feed is FEED_SIGNATURE, FEED_PARENT or FEED_DECODE', () => {
    fc.assert(
      fc.property(recipeArb(1, 3, 24), fc.integer({ min: 1, max: 255 }), (recipe, mask) => {
        const bytes = build(recipe).buffer
        for (let at = 0; at < bytes.length; at++) {
          const code = corruptedCode(bytes, at, mask)
          expect(ALLOWED_CORRUPTION_CODES, `byte ${at} ^ ${mask}`).toContain(code)
        }
      }),
      { numRuns: 25 },
    )
  })

  it('flipping a sampled byte of a larger feed is FEED_SIGNATURE, FEED_PARENT or FEED_DECODE', () => {
    fc.assert(
      fc.property(
        recipeArb(4, 12, 400).chain((recipe) => {
          const bytes = build(recipe).buffer
          return fc.tuple(
            fc.constant(bytes),
            fc.array(fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 })), {
              minLength: 20,
              maxLength: 40,
            }),
          )
        }),
        ([bytes, flips]) => {
          for (const [at, mask] of flips) {
            expect(ALLOWED_CORRUPTION_CODES, `byte ${at} ^ ${mask}`).toContain(
              corruptedCode(bytes, at, mask),
            )
          }
        },
      ),
      { numRuns: 30 },
    )
  })

  it('every single-bit flip of the PIC0 magic and the first varint is a typed error', () => {
    const bytes = build([{ body: 'x'.repeat(200), author: 0 }]).buffer
    for (const at of [0, 1, 2, 3, 68, 69]) {
      for (let bit = 0; bit < 8; bit++) {
        expect(ALLOWED_CORRUPTION_CODES, `byte ${at} bit ${bit}`).toContain(
          corruptedCode(bytes, at, 1 << bit),
        )
      }
    }
  })
})

describe('edges picofeed got wrong', () => {
  it('diff against an empty feed returns -length (and an empty feed sees +length)', () => {
    fc.assert(
      fc.property(recipeArb(0, 6), (recipe) => {
        const feed = build(recipe)
        const minusLength = feed.length === 0 ? 0 : -feed.length // never -0
        expect(feed.diff(new Feed())).toBe(minusLength)
        expect(feed.diff(new Uint8Array(0))).toBe(minusLength)
        expect(new Feed().diff(feed)).toBe(feed.length)
        expect(feed.merge(new Feed())).toBe(0)
      }),
    )
  })

  it('a cut anywhere is a shorter valid feed at a block boundary, else FEED_DECODE', () => {
    fc.assert(
      fc.property(recipeArb(1, 4, 40), (recipe) => {
        const feed = build(recipe)
        const bytes = feed.buffer
        const boundaries = new Map<number, number>([[4, 0]])
        let at = 4
        for (const [i, block] of feed.blocks.entries()) {
          at += block.blockSize
          boundaries.set(at, i + 1)
        }
        for (let cut = 4; cut < bytes.length; cut++) {
          const prefix = bytes.subarray(0, cut)
          const blocks = boundaries.get(cut)
          if (blocks === undefined) {
            expect(
              codeOf(() => Feed.from(prefix)),
              `cut at ${cut}`,
            ).toBe('FEED_DECODE')
          } else {
            const decoded = Feed.from(prefix)
            expect(decoded.length).toBe(blocks)
            expect(hex(decoded.buffer)).toBe(hex(prefix))
          }
        }
      }),
      { numRuns: 30 },
    )
  })

  it('a string body is UTF-8, even when it looks like hex', () => {
    const feed = new Feed()
    feed.append('deadbeef', SECRETS[0])
    expect(hex(feed.first!.body)).toBe(hex(new TextEncoder().encode('deadbeef')))
  })
})

describe('memory the caller holds', () => {
  it('Feed.from copies its input: changing the input afterwards changes nothing', () => {
    fc.assert(
      fc.property(recipeArb(1, 6), fc.boolean(), (recipe, withMagic) => {
        const original = build(recipe).buffer
        const input = withMagic ? original.slice() : original.slice(4)
        const feed = Feed.from(input)
        const snapshot = blockHexes(feed)
        input.fill(0xff)
        expect(blockHexes(feed)).toEqual(snapshot)
        expect(hex(feed.buffer)).toBe(hex(original))
        expect(feed.last!.verify()).toBe(true)
      }),
    )
  })

  it('Feed.from(bytes, { copy: false }) views the caller bytes and never writes them', () => {
    const original = build([
      { body: 'one', author: 0 },
      { body: 'two', author: 1 },
    ]).buffer
    const input = original.slice()
    const feed = Feed.from(input, { copy: false })
    expect(feed.buffer.buffer).toBe(input.buffer)
    feed.append('three', SECRETS[2])
    feed.truncate(1)
    feed.append('four', SECRETS[2])
    expect(hex(input)).toBe(hex(original))
    // a view, so a change to the input shows through blocks read before
    const view = Feed.from(input, { copy: false })
    input[input.length - 1] = 0x21
    expect(String.fromCharCode(view.last!.body.at(-1)!)).toBe('!')
  })

  it('Feed.from(bytes without PIC0, { copy: false }) still copies', () => {
    const input = build([{ body: 'one', author: 0 }]).buffer.slice(4)
    const feed = Feed.from(input, { copy: false })
    const before = hex(feed.buffer)
    input.fill(0xff)
    expect(hex(feed.buffer)).toBe(before)
  })

  it('Feed.from(block or feed) copies: later changes to the source do not show', () => {
    const source = build([
      { body: 'one', author: 0 },
      { body: 'two', author: 1 },
    ])
    const fromFeed = Feed.from(source)
    const fromBlock = Feed.from(source.first!)
    const before = [hex(fromFeed.buffer), hex(fromBlock.buffer)]
    source.truncate(0)
    source.append('other', SECRETS[2])
    source.append('more', SECRETS[2])
    expect([hex(fromFeed.buffer), hex(fromBlock.buffer)]).toEqual(before)
    expect(fromFeed.buffer.buffer).not.toBe(source.buffer.buffer)
  })

  it('truncate then append never changes a Block or buffer obtained before', () => {
    fc.assert(
      fc.property(
        recipeArb(1, 8).chain((recipe) =>
          fc.tuple(
            fc.constant(recipe),
            fc.integer({ min: -recipe.length, max: recipe.length }),
            recipeArb(1, 6),
          ),
        ),
        ([recipe, keep, more]) => {
          const feed = build(recipe)
          const blocks: Block[] = [...feed.blocks]
          const snapshot = blocks.map((b) => hex(b.buffer))
          const view = feed.buffer
          const viewBefore = hex(view)
          const expectedLength = Math.max(0, keep < 0 ? recipe.length + keep : keep)
          expect(feed.truncate(keep)).toBe(expectedLength)
          build(more, feed)
          expect(blocks.map((b) => hex(b.buffer))).toEqual(snapshot)
          expect(hex(view)).toBe(viewBefore)
          expect(Feed.from(feed.buffer).length).toBe(expectedLength + more.length)
        },
      ),
    )
  })

  it('append never changes a Block obtained before (no truncate)', () => {
    fc.assert(
      fc.property(recipeArb(1, 6), recipeArb(1, 20, 200), (recipe, more) => {
        const feed = build(recipe)
        const blocks = [...feed.blocks]
        const snapshot = blocks.map((b) => hex(b.buffer))
        build(more, feed)
        expect(blocks.map((b) => hex(b.buffer))).toEqual(snapshot)
      }),
    )
  })
})

describe('hex', () => {
  it('toHex is two lowercase digits per byte, across its 8 KiB chunks, and fromHex inverts it', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 80 }),
          fc.uint8Array({ minLength: 8180, maxLength: 20_000 }),
        ),
        (bytes) => {
          const text = toHex(bytes)
          expect(text).toBe(Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(''))
          expect(bytesEqual(fromHex(text), bytes)).toBe(true)
        },
      ),
      { numRuns: 60 },
    )
  })
})
