/**
 * Bad input: every row gets its exact, typed error code and leaves existing feeds as they
 * were. Plus the shape of PicoError / FeedError.
 */
import { describe, expect, it } from 'vitest'
import {
  Block,
  Feed,
  FeedError,
  type FeedErrorCode,
  fromHex,
  getPublicKey,
  keyBytes,
  PicoError,
  toHex,
  utf8,
  VARINT_MAX_VALUE,
  varintDecode,
  varintEncode,
} from '../src/index.ts'
import { authorHeader, concat, parentHeader, rawBlock } from './raw.ts'

const SK = '5a'.repeat(32)
const PK = getPublicKey(SK)
const OTHER_SK = 'a5'.repeat(32)

function feedOf(...bodies: string[]): Feed {
  const feed = new Feed()
  for (const body of bodies) feed.append(body, SK)
  return feed
}

const AUTHOR = authorHeader(SK)
const PARENT = parentHeader(new Uint8Array(64).fill(7))
const BODY = [...utf8('body')]
const ZERO_SIG = new Uint8Array(64)

/** A feed with one block of `bodyBytes` body bytes, built under a raised limit. */
function feedWithBody(bodyBytes: number): Uint8Array {
  const feed = new Feed({ limits: { maxBodyBytes: bodyBytes } })
  feed.append(new Uint8Array(bodyBytes).fill(0x61), SK)
  return feed.buffer
}

const big = feedWithBody(65_537)
const twoHundred = feedOf('x'.repeat(200)).buffer
const fork = () => {
  const a = feedOf('root', 'a')
  const b = feedOf('root', 'b')
  return [a, b] as const
}

/** A feed 'a', and an unverified copy extended by a block with a zero signature. */
function forgedExtension() {
  const base = feedOf('a')
  const forgedBlock = rawBlock([...AUTHOR, 0, 2, ...base.last!.sig, ...BODY], SK, ZERO_SIG)
  const forged = Feed.from(concat(base.buffer, forgedBlock), { verify: false })
  return { base, forged }
}

type Row = [name: string, run: () => unknown, code: FeedErrorCode]

// biome-ignore lint/suspicious/noExplicitAny: rows deliberately pass ill-typed values
const untyped = (value: unknown) => value as any

const rows: Row[] = [
  // bodies
  ['append empty string body', () => new Feed().append('', SK), 'FEED_INVALID_BODY'],
  ['append empty byte body', () => new Feed().append(new Uint8Array(0), SK), 'FEED_INVALID_BODY'],
  [
    'append body starting 0x00',
    () => new Feed().append(Uint8Array.of(0, 1), SK),
    'FEED_INVALID_BODY',
  ],
  ['append string body starting NUL', () => new Feed().append('\0hi', SK), 'FEED_INVALID_BODY'],
  // keys
  ['secret of 31 bytes', () => new Feed().append('x', new Uint8Array(31)), 'FEED_INVALID_KEY'],
  ['secret of 33 bytes', () => new Feed().append('x', new Uint8Array(33)), 'FEED_INVALID_KEY'],
  ['secret of 63 hex chars', () => new Feed().append('x', SK.slice(1)), 'FEED_INVALID_KEY'],
  ['secret of 62 hex chars (31 bytes)', () => getPublicKey(SK.slice(2)), 'FEED_INVALID_KEY'],
  ['secret of 66 hex chars (33 bytes)', () => getPublicKey(`${SK}00`), 'FEED_INVALID_KEY'],
  ['secret with non-hex chars', () => getPublicKey('zz'.repeat(32)), 'FEED_INVALID_KEY'],
  ['secret as a number', () => getPublicKey(untyped(42)), 'FEED_INVALID_KEY'],
  ['secret as null', () => keyBytes(untyped(null)), 'FEED_INVALID_KEY'],
  [
    'verify with a 31-byte public key',
    () => feedOf('a').first!.verify(new Uint8Array(31)),
    'FEED_INVALID_KEY',
  ],
  ['verify with 63 hex chars', () => feedOf('a').first!.verify(PK.slice(1)), 'FEED_INVALID_KEY'],
  // non-bytes
  ['Feed.from(number)', () => Feed.from(untyped(42)), 'FEED_INVALID_INPUT'],
  ['Feed.from(object)', () => Feed.from(untyped({ length: 3 })), 'FEED_INVALID_INPUT'],
  ['Feed.from(null)', () => Feed.from(untyped(null)), 'FEED_INVALID_INPUT'],
  ['Feed.from(string)', () => Feed.from(untyped(toHex(twoHundred))), 'FEED_INVALID_INPUT'],
  ['Feed.from(array of non-blocks)', () => Feed.from(untyped([1, 2])), 'FEED_INVALID_INPUT'],
  ['append(number)', () => new Feed().append(untyped(42), SK), 'FEED_INVALID_INPUT'],
  ['append(object)', () => new Feed().append(untyped({}), SK), 'FEED_INVALID_INPUT'],
  ['append(null)', () => new Feed().append(untyped(null), SK), 'FEED_INVALID_INPUT'],
  ['new Block(number)', () => new Block(untyped(42)), 'FEED_INVALID_INPUT'],
  ['new Block at offset -4', () => new Block(twoHundred, -4), 'FEED_INVALID_INPUT'],
  ['new Block at offset 1.5', () => new Block(twoHundred, 1.5), 'FEED_INVALID_INPUT'],
  ['new Block at offset NaN', () => new Block(twoHundred, Number.NaN), 'FEED_INVALID_INPUT'],
  ['new Block past the end', () => new Block(twoHundred, twoHundred.length), 'FEED_DECODE'],
  ['diff(object)', () => feedOf('a').diff(untyped({})), 'FEED_INVALID_INPUT'],
  ['merge(null)', () => feedOf('a').merge(untyped(null)), 'FEED_INVALID_INPUT'],
  ['toHex(string)', () => toHex(untyped('00')), 'FEED_INVALID_INPUT'],
  ['fromHex(number)', () => fromHex(untyped(12)), 'FEED_INVALID_INPUT'],
  ['fromHex(odd length)', () => fromHex('abc'), 'FEED_INVALID_INPUT'],
  ['fromHex(non-hex)', () => fromHex('0g'), 'FEED_INVALID_INPUT'],
  ['truncate(1.5)', () => feedOf('a').truncate(1.5), 'FEED_INVALID_INPUT'],
  ['limit maxBodyBytes 0', () => new Feed({ limits: { maxBodyBytes: 0 } }), 'FEED_INVALID_INPUT'],
  ['limit maxFeedBytes -1', () => new Feed({ limits: { maxFeedBytes: -1 } }), 'FEED_INVALID_INPUT'],
  [
    'frozen limit maxBodyBytes 0, checked again on every use',
    () => {
      const limits = Object.freeze({ maxBodyBytes: 0 })
      try {
        new Feed({ limits })
      } catch {}
      return new Feed({ limits })
    },
    'FEED_INVALID_INPUT',
  ],
  [
    'frozen limit maxBodyBytes 10, enforced by a second feed too',
    () => {
      const limits = Object.freeze({ maxBodyBytes: 10 })
      new Feed({ limits }).append('0123456789', SK)
      return new Feed({ limits }).append('0123456789a', SK)
    },
    'FEED_TOO_LARGE',
  ],
  [
    'limit maxBodyBytes 1.5',
    () => new Feed({ limits: { maxBodyBytes: 1.5 } }),
    'FEED_INVALID_INPUT',
  ],
  [
    'limit NaN',
    () => Feed.from(twoHundred, { limits: { maxFeedBytes: Number.NaN } }),
    'FEED_INVALID_INPUT',
  ],
  ['varintEncode(-1)', () => varintEncode(-1, new Uint8Array(4), 0), 'FEED_INVALID_INPUT'],
  ['varintEncode(0.5)', () => varintEncode(0.5, new Uint8Array(4), 0), 'FEED_INVALID_INPUT'],
  // sizes
  [
    'append 65,537-byte body (default 64 KiB)',
    () => new Feed().append(new Uint8Array(65_537).fill(1), SK),
    'FEED_TOO_LARGE',
  ],
  ['decode a 65,537-byte body (default 64 KiB)', () => Feed.from(big), 'FEED_TOO_LARGE'],
  ['new Block over a 65,537-byte body', () => new Block(big, 4), 'FEED_TOO_LARGE'],
  [
    'append 101-byte body (limit 100)',
    () => new Feed({ limits: { maxBodyBytes: 100 } }).append('y'.repeat(101), SK),
    'FEED_TOO_LARGE',
  ],
  [
    'decode a 200-byte body (limit 100)',
    () => Feed.from(twoHundred, { limits: { maxBodyBytes: 100 } }),
    'FEED_TOO_LARGE',
  ],
  [
    'decode a feed over maxFeedBytes',
    () => Feed.from(twoHundred, { limits: { maxFeedBytes: twoHundred.length - 1 } }),
    'FEED_TOO_LARGE',
  ],
  [
    'decode magic-less bytes over maxFeedBytes (PIC0 counted)',
    () => Feed.from(twoHundred.subarray(4), { limits: { maxFeedBytes: twoHundred.length - 1 } }),
    'FEED_TOO_LARGE',
  ],
  [
    'append past maxFeedBytes',
    () => new Feed({ limits: { maxFeedBytes: 200 } }).append('y'.repeat(100), SK),
    'FEED_TOO_LARGE',
  ],
  [
    'merge past maxFeedBytes',
    () => Feed.from(twoHundred.subarray(0, 4), { limits: { maxFeedBytes: 299 } }).merge(twoHundred),
    'FEED_TOO_LARGE',
  ],
  [
    'Feed.from(feed) under a smaller body limit',
    () => Feed.from(Feed.from(twoHundred), { limits: { maxBodyBytes: 100 } }),
    'FEED_TOO_LARGE',
  ],
  [
    'reverse merge of blocks over our body limit',
    () => {
      const whole = feedOf('x'.repeat(200), 'tail')
      const later = Feed.from(whole.slice(1).buffer, { limits: { maxBodyBytes: 100 } })
      return later.merge(whole.slice(0, 1))
    },
    'FEED_TOO_LARGE',
  ],
  [
    'varintEncode(2^28)',
    () => varintEncode(VARINT_MAX_VALUE + 1, new Uint8Array(5), 0),
    'FEED_TOO_LARGE',
  ],
  // garbage
  ['one byte', () => Feed.from(Uint8Array.of(1)), 'FEED_DECODE'],
  ['PIC0 and one byte', () => Feed.from(concat(utf8('PIC0'), [1])), 'FEED_DECODE'],
  ['text', () => Feed.from(utf8('hello, this is not a feed')), 'FEED_DECODE'],
  ['65 zero bytes', () => Feed.from(new Uint8Array(65)), 'FEED_DECODE'],
  ['66 zero bytes (empty body)', () => Feed.from(new Uint8Array(66)), 'FEED_DECODE'],
  ['200 bytes of 0xff', () => Feed.from(new Uint8Array(200).fill(0xff)), 'FEED_DECODE'],
  ['valid feed then garbage', () => Feed.from(concat(twoHundred, [1, 2, 3])), 'FEED_DECODE'],
  [
    'truncated trailing block',
    () => Feed.from(feedOf('a', 'b').buffer.slice(0, -1)),
    'FEED_DECODE',
  ],
  [
    'well-formed block, zero signature',
    () => Feed.from(rawBlock([...AUTHOR, ...BODY], SK, ZERO_SIG)),
    'FEED_SIGNATURE',
  ],
  ['block without author header', () => Feed.from(rawBlock(BODY, SK)), 'FEED_SIGNATURE'],
  [
    'two unrelated genesis blocks',
    () => Feed.from(concat(feedOf('a').buffer, feedOf('b').buffer.subarray(4))),
    'FEED_PARENT',
  ],
  [
    'blocks out of order',
    () => Feed.from([feedOf('a', 'b').last!, feedOf('a', 'b').first!]),
    'FEED_PARENT',
  ],
  // varints
  [
    'over-long varint (5 bytes)',
    () => Feed.from(concat(ZERO_SIG, [0x80, 0x80, 0x80, 0x80, 0x01], BODY)),
    'FEED_DECODE',
  ],
  [
    'non-minimal varint (85 00)',
    () => Feed.from(concat(ZERO_SIG, [0x85, 0x00], BODY)),
    'FEED_DECODE',
  ],
  ['truncated varint', () => Feed.from(concat(ZERO_SIG, [0x80, 0x80])), 'FEED_DECODE'],
  ['varint past the end', () => Feed.from(concat(ZERO_SIG, [0x7f], BODY)), 'FEED_DECODE'],
  [
    'varintDecode non-minimal',
    () => varintDecode(Uint8Array.of(0x81, 0x80, 0x00), 0),
    'FEED_DECODE',
  ],
  ['varintDecode over-long', () => varintDecode(new Uint8Array(8).fill(0xff), 0), 'FEED_DECODE'],
  // headers (signed properly, so only the layout is wrong)
  [
    'unknown header type 3',
    () => Feed.from(rawBlock([...AUTHOR, 0, 3, 1, 2, ...BODY], SK)),
    'FEED_DECODE',
  ],
  [
    'unknown header type 0',
    () => Feed.from(rawBlock([0, 0, ...AUTHOR, ...BODY], SK)),
    'FEED_DECODE',
  ],
  [
    'duplicate author header',
    () => Feed.from(rawBlock([...AUTHOR, ...AUTHOR, ...BODY], SK)),
    'FEED_DECODE',
  ],
  [
    'duplicate parent header',
    () => Feed.from(rawBlock([...AUTHOR, ...PARENT, ...PARENT, ...BODY], SK)),
    'FEED_DECODE',
  ],
  ['author header cut short', () => Feed.from(rawBlock([0, 1, 5, 5, 5], SK)), 'FEED_DECODE'],
  ['headers but no body', () => Feed.from(rawBlock(AUTHOR, SK)), 'FEED_DECODE'],
  // relations
  [
    'diff of unrelated feeds',
    () => feedOf('a').diff(Feed.from(feedOf('x', 'y').slice(1))),
    'FEED_UNRELATED',
  ],
  ['diff of forked feeds', () => fork()[0].diff(fork()[1]), 'FEED_DIVERGED'],
  [
    'merge of an unverified feed with a forged block',
    () => {
      const { base, forged } = forgedExtension()
      return base.merge(forged)
    },
    'FEED_SIGNATURE',
  ],
  [
    'Feed.from(unverified feed with a forged block)',
    () => Feed.from(forgedExtension().forged),
    'FEED_SIGNATURE',
  ],
]

describe('bad input', () => {
  const titled = rows.map(([name, run, code]) => [name, code, run] as const)
  it.each(titled)('%s -> %s', (_name, code, run) => {
    let thrown: unknown
    try {
      run()
    } catch (err) {
      thrown = err
    }
    expect(thrown).toBeInstanceOf(FeedError)
    expect((thrown as FeedError).code).toBe(code)
  })

  it('accepts exactly the limits: 65,536-byte body, maxFeedBytes equal to the size', () => {
    const feed = new Feed()
    expect(feed.append(new Uint8Array(65_536).fill(1), SK)).toBe(1)
    expect(Feed.from(feed.buffer).length).toBe(1)
    expect(Feed.from(twoHundred, { limits: { maxFeedBytes: twoHundred.length } }).length).toBe(1)
    expect(Feed.from(twoHundred, { limits: { maxBodyBytes: 200 } }).length).toBe(1)
    expect(Feed.from(big, { limits: { maxBodyBytes: 65_537 } }).length).toBe(1)
  })

  it('diff and merge read byte arguments under the feed own limits', () => {
    const roomy = new Feed({ limits: { maxBodyBytes: 65_537 } })
    expect(roomy.diff(big)).toBe(1)
    expect(roomy.merge(big)).toBe(1)
    expect(toHex(roomy.buffer)).toBe(toHex(big))
    const tight = Feed.from(twoHundred.subarray(0, 4), { limits: { maxBodyBytes: 100 } })
    expect(() => tight.merge(twoHundred)).toThrow(
      expect.objectContaining({ code: 'FEED_TOO_LARGE' }),
    )
    expect(tight.length).toBe(0)
  })

  it('a failed append, merge or truncate leaves the feed as it was', () => {
    const feed = new Feed({ limits: { maxFeedBytes: 700 } })
    feed.append('one', SK)
    feed.append('two', OTHER_SK)
    const before = toHex(feed.buffer)
    const blocks = [...feed.blocks]
    const attempts: (() => unknown)[] = [
      () => feed.append('', SK),
      () => feed.append(Uint8Array.of(0), SK),
      () => feed.append('x', 'nope'),
      () => feed.append('x'.repeat(600), SK),
      () => feed.merge(concat(feed.buffer, [9, 9])),
      () => {
        const longer = Feed.from(feed.buffer, { limits: { maxFeedBytes: 10_000 } })
        longer.append('x'.repeat(600), SK)
        return feed.merge(longer)
      },
      () => feed.truncate(Number.NaN),
    ]
    for (const [i, attempt] of attempts.entries()) {
      expect(attempt, `attempt ${i}`).toThrow(FeedError)
      expect(toHex(feed.buffer)).toBe(before)
      expect(feed.blocks).toEqual(blocks)
      expect(feed.keys.map(toHex)).toEqual([PK, getPublicKey(OTHER_SK)])
    }
    expect(feed.append('three', SK)).toBe(3)
  })
})

describe('PicoError and FeedError', () => {
  it('carry name, code, message and cause, and are Errors', () => {
    let caught: unknown
    try {
      getPublicKey('zz'.repeat(32))
    } catch (err) {
      caught = err
    }
    const err = caught as FeedError
    expect(err).toBeInstanceOf(FeedError)
    expect(err).toBeInstanceOf(PicoError)
    expect(err).toBeInstanceOf(Error)
    expect(err.name).toBe('FeedError')
    expect(err.code).toBe('FEED_INVALID_KEY')
    expect(typeof err.message).toBe('string')
    expect(err.stack).toContain('FeedError')
    // the hex parse failure underneath is kept as the cause
    expect(err.cause).toBeInstanceOf(FeedError)
    expect((err.cause as FeedError).code).toBe('FEED_INVALID_INPUT')
  })

  it('subclasses get their own name and keep the code type', () => {
    type RepoCode = 'REPO_CLOSED'
    class RepoError extends PicoError<RepoCode> {}
    const cause = new Error('disk')
    const err = new RepoError('REPO_CLOSED', 'closed', { cause })
    expect(err).toBeInstanceOf(PicoError)
    expect(err).not.toBeInstanceOf(FeedError)
    expect(err.name).toBe('RepoError')
    expect(err.code).toBe('REPO_CLOSED')
    expect(err.cause).toBe(cause)
    expect(new FeedError('FEED_DECODE', 'x').cause).toBeUndefined()
  })
})
