/**
 * Conformance with picofeed v8: every case of test/vectors/picofeed-v8.json (kept in the
 * package, so a fresh clone tests with nothing beside it) is rebuilt from its recipe through
 * the public API and compared byte for byte, and every listed relation is checked.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { Feed, FeedError, fromHex, getPublicKey, toHex } from '../src/index.ts'

interface Vectors {
  secretKey: string
  publicKey: string
  cases: { name: string; recipe: string; bytes: number; hex: string }[]
  relations: string[]
}

const vectorsPath = fileURLToPath(new URL('./vectors/picofeed-v8.json', import.meta.url))
const vectors: Vectors = JSON.parse(readFileSync(vectorsPath, 'utf8'))
const sk = vectors.secretKey
const hexOf = (name: string) => {
  const found = vectors.cases.find((c) => c.name === name)
  if (!found) throw new Error(`no vector ${name}`)
  return found.hex
}
const feedOf = (name: string) => Feed.from(fromHex(hexOf(name)))

function build(...bodies: string[]): Feed {
  const feed = new Feed()
  for (const body of bodies) feed.append(body, sk)
  return feed
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(FeedError)
    return (err as FeedError).code
  }
  return undefined
}

/** The relations this file checks, verbatim from the vectors (so a new one fails here). */
const CHECKED_RELATIONS = [
  'Feed(feed_zero_one_two).diff(slice_one_two) === 0 (nothing new)',
  "Feed(slice_one_two).diff(feed_zero_one_two) throws 'unrelated'",
  'Feed(feed_zero_one_two).merge(slice_two) === 0',
  "Feed(block 'zero' alone).merge(slice_one_two) === 2 (fast-forward)",
  "Feed(block 'zero' alone).merge(slice_two) === -1 (gap: cannot merge)",
  "Feed(slice_one_two).merge(Feed(block 'zero' alone)) === 2 (reverse merge) and the result is byte-identical to feed_zero_one_two",
  'flipping any body byte or author-key byte of any block makes Feed.from(bytes) fail signature verification',
  'flipping a parent-signature byte of a non-first block makes Feed.from(bytes) fail the parent-link check',
  'a genesis block with a 200-byte body has varint ea 01 (234) and is 300 bytes long',
]

describe('picofeed v8 vectors', () => {
  it('lists exactly the relations this file checks', () => {
    expect(vectors.relations).toEqual(CHECKED_RELATIONS)
  })

  it('derives the vector public key from the vector secret', () => {
    expect(getPublicKey(sk)).toBe(vectors.publicKey)
  })

  const recipes: Record<string, () => Uint8Array> = {
    feed_B0_B1: () => build('B0', 'B1').buffer,
    feed_zero_one_two: () => build('zero', 'one', 'two').buffer,
    slice_one_two: () => build('zero', 'one', 'two').slice(1).buffer,
    slice_two: () => build('zero', 'one', 'two').slice(-1).buffer,
    truncate_reappend: () => {
      const feed = build('B0', 'B1', 'B2')
      feed.truncate(1)
      feed.append('B4', sk)
      return feed.buffer
    },
    block_hello: () => build('Hello').first!.buffer,
    block_complexity: () => build('Complexity is the enemy of all great visions').first!.buffer,
  }

  it('has a recipe for every case', () => {
    expect(Object.keys(recipes).sort()).toEqual(vectors.cases.map((c) => c.name).sort())
  })

  for (const c of vectors.cases) {
    it(`${c.name}: rebuilt byte for byte (${c.recipe})`, () => {
      const bytes = recipes[c.name]!()
      expect(bytes.length).toBe(c.bytes)
      expect(toHex(bytes)).toBe(c.hex)
    })

    it(`${c.name}: decodes, verifies and re-encodes identically`, () => {
      const feed = Feed.from(fromHex(c.hex))
      const magic = c.hex.startsWith('50494330')
      const reencoded = magic ? feed.buffer : feed.first!.buffer
      expect(toHex(reencoded)).toBe(c.hex)
      for (const block of feed.blocks) {
        expect(toHex(block.key!)).toBe(vectors.publicKey)
        expect(block.verify()).toBe(true)
      }
    })
  }

  it('feed_zero_one_two.diff(slice_one_two) === 0', () => {
    expect(feedOf('feed_zero_one_two').diff(feedOf('slice_one_two'))).toBe(0)
  })

  it("slice_one_two.diff(feed_zero_one_two) throws 'unrelated' (FEED_UNRELATED)", () => {
    const a = feedOf('slice_one_two')
    expect(codeOf(() => a.diff(feedOf('feed_zero_one_two')))).toBe('FEED_UNRELATED')
  })

  it('feed_zero_one_two.merge(slice_two) === 0', () => {
    const feed = feedOf('feed_zero_one_two')
    expect(feed.merge(feedOf('slice_two'))).toBe(0)
    expect(toHex(feed.buffer)).toBe(hexOf('feed_zero_one_two'))
  })

  it("block 'zero' alone merges slice_one_two as a fast-forward (2)", () => {
    const zero = build('zero').slice(0, 1)
    expect(zero.merge(feedOf('slice_one_two'))).toBe(2)
    expect(toHex(zero.buffer)).toBe(hexOf('feed_zero_one_two'))
  })

  it("block 'zero' alone cannot merge slice_two (gap: -1)", () => {
    const zero = build('zero')
    expect(zero.merge(feedOf('slice_two'))).toBe(-1)
    expect(zero.length).toBe(1)
  })

  it("slice_one_two reverse-merges block 'zero' (2) into feed_zero_one_two", () => {
    const partial = feedOf('slice_one_two')
    expect(partial.merge(build('zero'))).toBe(2)
    expect(toHex(partial.buffer)).toBe(hexOf('feed_zero_one_two'))
    expect(partial.partial).toBe(false)
  })

  /** Offsets (in feed bytes) of every block's author key, parent sig and body. */
  function regions(feed: Feed) {
    const out: { index: number; key: number[]; parent: number[]; body: number[] }[] = []
    let at = 4
    for (const [index, block] of feed.blocks.entries()) {
      const bodyAt = at + block.blockSize - block.size
      const parentAt = bodyAt - 64 // the parent header, when present, comes last
      const keyAt = (block.genesis ? bodyAt : parentAt - 2) - 32 // the author header first
      const range = (from: number, n: number) => Array.from({ length: n }, (_, k) => from + k)
      out.push({
        index,
        key: range(keyAt, 32),
        parent: block.genesis ? [] : range(parentAt, 64),
        body: range(bodyAt, block.size),
      })
      at += block.blockSize
    }
    return out
  }

  it('flipping any body or author-key byte of any block fails signature verification', () => {
    for (const name of ['feed_B0_B1', 'feed_zero_one_two', 'slice_one_two']) {
      const original = fromHex(hexOf(name))
      for (const region of regions(Feed.from(original))) {
        for (const at of [...region.body, ...region.key]) {
          const bytes = original.slice()
          bytes[at]! ^= 0x01
          expect(
            codeOf(() => Feed.from(bytes)),
            `${name} byte ${at}`,
          ).toBe('FEED_SIGNATURE')
        }
      }
    }
  })

  it('flipping a parent-signature byte of a non-first block fails the parent-link check', () => {
    for (const name of ['feed_B0_B1', 'feed_zero_one_two', 'slice_one_two']) {
      const original = fromHex(hexOf(name))
      for (const region of regions(Feed.from(original)).slice(1)) {
        for (const at of region.parent) {
          const bytes = original.slice()
          bytes[at]! ^= 0x80
          expect(
            codeOf(() => Feed.from(bytes)),
            `${name} byte ${at}`,
          ).toBe('FEED_PARENT')
        }
      }
    }
  })

  it('a genesis block with a 200-byte body has varint ea 01 (234) and is 300 bytes long', () => {
    const feed = build('x'.repeat(200))
    const block = feed.first!
    expect(block.blockSize).toBe(300)
    expect(block.buffer.length).toBe(300)
    expect(toHex(block.buffer.subarray(64, 66))).toBe('ea01')
  })
})
