import { diffChains, isParentOf } from './alignment.ts'
import { Block } from './block.ts'
import { asBytes, bytesEqual, utf8 } from './bytes.ts'
import {
  blockSizeFor,
  type FeedLimits,
  hasMagic,
  MAGIC,
  SIG_BYTES,
  writeUnsignedBlock,
} from './codec.ts'
import { activeEd25519 } from './crypto.ts'
import { describeBlocks } from './describe.ts'
import { FeedError } from './errors.ts'
import { authorOf, type SecretKey, seedOf } from './keys.ts'
import { acceptedBy, type MergeCallback } from './merge-callback.ts'
import { type FeedFromOptions, type FeedLike, type FeedOptions, resolveLimits } from './options.ts'
import { verifySignatures, verifySignaturesAsync } from './signatures.ts'
import type { verifyBatch } from './verify-batch.ts'

const inspectSymbol = Symbol.for('nodejs.util.inspect.custom')
const INITIAL_CAPACITY = 1024
/**
 * The buffer of every feed that has not written a block yet: the magic only, never written
 * to and never handed out ({@link Feed.buffer} copies it). A feed read from bytes then
 * allocates once, at their size, and one that appends allocates on its first block.
 */
const UNWRITTEN = MAGIC.slice()

function latin1(bytes: Uint8Array): string {
  return String.fromCharCode.apply(null, bytes as unknown as number[])
}

/**
 * A chain of signed blocks, each linked to the one before by its parent signature
 * (picofeed v8 compatible; docs/block-format.md). Blocks may come from several
 * authors. A feed whose first block is not a genesis block is partial.
 *
 * Appending is amortised O(1): the feed owns one growing buffer that starts with the
 * `PIC0` magic, and blocks are zero-copy views into it.
 */
export class Feed {
  #buf: Uint8Array
  #tail: number
  #blocks: Block[] = []
  #keys: Uint8Array[] = []
  /** `latin1` of each of `#keys`, made when a second key is checked (most feeds have one). */
  #keySet: Set<string> | undefined
  #limits: FeedLimits
  #verified = true

  /**
   * An empty feed.
   * @throws FEED_INVALID_INPUT for a limit that is not a positive integer
   */
  constructor(options: FeedOptions = {}) {
    this.#limits = resolveLimits(options.limits)
    this.#buf = UNWRITTEN
    this.#tail = MAGIC.length
  }

  /**
   * A feed from bytes (with or without `PIC0`), a block, blocks in chain order, or another
   * feed (copied). Checks every parent link and, unless `verify: false`, every signature
   * (a block without an author header must verify under a key seen earlier in the feed).
   * An empty byte array or a bare `PIC0` gives an empty feed.
   * @throws FEED_DECODE for malformed or truncated bytes
   * @throws FEED_PARENT when a block's parent signature is not the previous block's
   * @throws FEED_SIGNATURE when a signature does not verify
   * @throws FEED_TOO_LARGE when a body or the feed exceeds its limit
   * @throws FEED_INVALID_INPUT for anything that is not feed-like
   */
  static from(input: FeedLike, options: FeedFromOptions = {}): Feed {
    const feed = Feed.#unverified(input, options)
    if (options.verify !== false) feed.#verifyAll()
    return feed
  }

  /**
   * Like {@link Feed.from}, but checks signatures with {@link verifyBatch}, which uses
   * WebCrypto Ed25519 in browsers that have it (all checks in flight at once).
   * @throws the same codes as {@link Feed.from}, as a rejected promise
   */
  static async fromAsync(input: FeedLike, options: FeedFromOptions = {}): Promise<Feed> {
    const feed = Feed.#unverified(input, options)
    if (options.verify === false || feed.#verified) return feed
    await verifySignaturesAsync(feed.#blocks)
    feed.#verified = true
    return feed
  }

  static #unverified(input: FeedLike, options: FeedFromOptions): Feed {
    if (input instanceof Feed) return input.#copy(options.limits ?? input.#limits)
    const feed = new Feed(options)
    if (input instanceof Block) input = [input]
    if (Array.isArray(input)) {
      feed.#verified = false
      feed.#appendBlocks(input as readonly Block[])
      return feed
    }
    feed.#parse(asBytes(input, 'feed'), options.copy !== false)
    return feed
  }

  #parse(bytes: Uint8Array, copy: boolean): void {
    const magic = hasMagic(bytes)
    const size = bytes.length + (magic ? 0 : MAGIC.length)
    if (size > this.#limits.maxFeedBytes) {
      throw new FeedError(
        'FEED_TOO_LARGE',
        `feed of ${size} bytes exceeds ${this.#limits.maxFeedBytes}`,
      )
    }
    if (magic && !copy) {
      this.#buf = bytes
    } else {
      this.#buf = new Uint8Array(size)
      this.#buf.set(MAGIC)
      this.#buf.set(magic ? bytes.subarray(MAGIC.length) : bytes, MAGIC.length)
    }
    this.#verified = false
    this.#tail = MAGIC.length
    while (this.#tail < size) {
      const block = new Block(this.#buf, this.#tail, this.#limits)
      this.#link(block)
      this.#tail += block.blockSize
    }
  }

  /** Checks `block` links to the current last block, then adds it and its key. */
  #link(block: Block): void {
    const last = this.#blocks[this.#blocks.length - 1]
    if (last && !isParentOf(last, block)) {
      throw new FeedError(
        'FEED_PARENT',
        `block ${this.#blocks.length} does not link to its predecessor`,
      )
    }
    this.#add(block, last)
  }

  /** Adds `block` (already known to follow `last`) and, if new, its author key. */
  #add(block: Block, last: Block | undefined): void {
    this.#blocks.push(block)
    const key = block.key
    if (!key) return
    // Runs of blocks by one author are the common case: skip the set when the block
    // before has the same key (it is registered already).
    const lastKey = last?.key
    if (lastKey && bytesEqual(lastKey, key)) return
    if (this.#keys.length === 0) {
      this.#keys.push(key)
      return
    }
    const set = (this.#keySet ??= new Set(this.#keys.map(latin1)))
    const id = latin1(key)
    if (!set.has(id)) {
      set.add(id)
      this.#keys.push(key)
    }
  }

  #verifyAll(): void {
    if (this.#verified) return
    verifySignatures(this.#blocks)
    this.#verified = true
  }

  /** Makes room for `extra` more bytes; existing blocks keep viewing the old memory. */
  #reserve(extra: number, exact = false): void {
    const needed = this.#tail + extra
    if (needed > this.#limits.maxFeedBytes) {
      throw new FeedError(
        'FEED_TOO_LARGE',
        `feed would grow to ${needed} bytes, limit ${this.#limits.maxFeedBytes}`,
      )
    }
    if (needed <= this.#buf.length) return
    // A feed made from blocks gets their size: it is mostly read, not appended to.
    const grown = exact && this.#buf === UNWRITTEN ? needed : Math.max(needed, INITIAL_CAPACITY)
    const next = new Uint8Array(
      Math.min(Math.max(grown, this.#buf.length * 2), this.#limits.maxFeedBytes),
    )
    next.set(this.#buf === UNWRITTEN ? MAGIC : this.#buf.subarray(0, this.#tail))
    this.#buf = next
  }

  /** Copies `blocks` onto the end (links checked, all or nothing); signatures untouched. */
  #appendBlocks(blocks: readonly Block[]): void {
    let bytes = 0
    for (const block of blocks) {
      if (!(block instanceof Block))
        throw new FeedError('FEED_INVALID_INPUT', 'expected an array of Block')
      bytes += block.blockSize
    }
    this.#reserve(bytes, true)
    const blocksBefore = this.#blocks.length
    const keysBefore = this.#keys.length
    try {
      let at = this.#tail
      for (const block of blocks) {
        this.#buf.set(block.buffer, at)
        this.#link(new Block(this.#buf, at, this.#limits))
        at += block.blockSize
      }
      this.#tail = at
    } catch (err) {
      for (const key of this.#keys.splice(keysBefore)) this.#keySet?.delete(latin1(key))
      this.#blocks.length = blocksBefore
      throw err
    }
  }

  /**
   * Signs `body` with `secret` and appends it as a new block (author header, then parent
   * header unless this is the first block). A string body is UTF-8 encoded.
   * @returns the new length in blocks
   * @throws FEED_INVALID_BODY when the body is empty or starts with byte 0x00
   * @throws FEED_TOO_LARGE when the body or the grown feed exceeds its limit
   * @throws FEED_INVALID_KEY when `secret` is not a 32-byte seed
   * @throws FEED_INVALID_INPUT when `body` is neither a string nor bytes
   */
  append(body: string | Uint8Array, secret: SecretKey): number {
    const data = typeof body === 'string' ? utf8(body) : asBytes(body, 'body')
    if (data.length === 0) throw new FeedError('FEED_INVALID_BODY', 'body is empty')
    if (data[0] === 0)
      throw new FeedError('FEED_INVALID_BODY', 'body must not start with byte 0x00')
    if (data.length > this.#limits.maxBodyBytes) {
      throw new FeedError(
        'FEED_TOO_LARGE',
        `body of ${data.length} bytes exceeds ${this.#limits.maxBodyBytes}`,
      )
    }
    const seed = seedOf(secret)
    const author = authorOf(seed)
    const parent = this.last
    const size = blockSizeFor(data.length, parent !== undefined)
    this.#reserve(size)
    const at = this.#tail
    writeUnsignedBlock(this.#buf, at, data, author, parent?.sig)
    this.#buf.set(activeEd25519().sign(this.#buf.subarray(at + SIG_BYTES, at + size), seed), at)
    this.#add(new Block(this.#buf, at, this.#limits), parent) // linked to parent as written
    this.#tail = at + size
    return this.#blocks.length
  }

  /** Number of blocks (the feed's height). */
  get length(): number {
    return this.#blocks.length
  }

  /** The first block, or `undefined` when empty. */
  get first(): Block | undefined {
    return this.#blocks[0]
  }

  /** The last block (the head), or `undefined` when empty. */
  get last(): Block | undefined {
    return this.#blocks[this.#blocks.length - 1]
  }

  /** Block at index `i`; negative counts from the end (`-1` is the last). */
  block(i: number): Block | undefined {
    return this.#blocks[i < 0 ? this.#blocks.length + i : i]
  }

  /** The blocks in chain order (read-only; copy before changing). */
  get blocks(): readonly Block[] {
    return this.#blocks
  }

  /** Distinct author keys (32 B each) in order of first appearance. */
  get keys(): readonly Uint8Array[] {
    return this.#keys
  }

  /** True when the feed is non-empty and does not start with a genesis block. */
  get partial(): boolean {
    const first = this.#blocks[0]
    return first !== undefined && !first.genesis
  }

  /** The feed's encoding, `PIC0` then every block (a read-only view; a fresh `PIC0` while empty). */
  get buffer(): Uint8Array {
    if (this.#buf === UNWRITTEN) return MAGIC.slice()
    return this.#buf.subarray(0, this.#tail)
  }

  /** The size limits this feed enforces. */
  get limits(): Readonly<FeedLimits> {
    return this.#limits
  }

  /** An independent copy (its own memory), with the same limits; not re-verified. */
  clone(): Feed {
    return this.#copy(this.#limits)
  }

  /**
   * A copy in its own memory under `limits` (checked), as verified as this feed.
   * @throws FEED_TOO_LARGE when a body or the feed exceeds `limits`
   */
  #copy(limits: Partial<FeedLimits>): Feed {
    const copy = new Feed({ limits })
    copy.#parse(this.buffer, true)
    copy.#verified = this.#verified
    return copy
  }

  /**
   * Keeps the first `length` blocks (negative: drops that many from the end).
   * @returns the new length
   * @throws FEED_INVALID_INPUT when `length` is not an integer
   */
  truncate(length: number): number {
    if (!Number.isInteger(length))
      throw new FeedError('FEED_INVALID_INPUT', 'truncate expects an integer')
    const keep = Math.max(0, length < 0 ? this.#blocks.length + length : length)
    if (keep >= this.#blocks.length) return this.#blocks.length
    const kept = this.#blocks.slice(0, keep)
    let tail = MAGIC.length
    for (const block of kept) tail += block.blockSize
    // Copy so a later append never overwrites bytes a caller may still be viewing.
    const buf = new Uint8Array(Math.max(tail, INITIAL_CAPACITY))
    buf.set(this.#buf.subarray(0, tail))
    this.#buf = buf
    this.#tail = tail
    this.#blocks = []
    this.#keys = []
    this.#keySet = undefined
    for (const block of kept) this.#link(block)
    return this.#blocks.length
  }

  /**
   * A new feed holding blocks `start` (inclusive) to `end` (exclusive); negative indices
   * count from the end, as in `Array.prototype.slice`. Copies.
   */
  slice(start = 0, end = this.#blocks.length): Feed {
    const feed = new Feed({ limits: this.#limits })
    feed.#appendBlocks(this.#blocks.slice(start, end))
    feed.#verified = this.#verified
    return feed
  }

  /** `other` as a verified feed read under this feed's limits. */
  #feedOf(other: Exclude<FeedLike, Feed>): Feed {
    return Feed.from(other, { limits: this.#limits })
  }

  /**
   * Compares `other` with this feed after aligning them by parent signature
   * (picofeed v8 semantics).
   * @returns 0 when neither has blocks the other lacks; `n > 0` when `other` has `n` more
   *   blocks after ours; `-n` when we have `n` blocks after the end of `other`. An empty
   *   `other` gives `-length`; an empty `this` gives `other.length`.
   * @throws FEED_UNRELATED when no block of ours is or shares the parent of `other`'s first
   * @throws FEED_DIVERGED when both continue the same parent with different blocks (a fork)
   * @throws what {@link Feed.from} throws when `other` is not a Feed (read under our limits)
   */
  diff(other: FeedLike): number {
    const b = other instanceof Feed ? other.#blocks : this.#feedOf(other).#blocks
    return diffChains(this.#blocks, b)
  }

  /**
   * Merges the blocks of `other` that extend this feed (picofeed v8 semantics). When
   * `other` ends where we begin (we are a later part of the same chain), this feed
   * becomes `other` followed by our blocks (reverse merge). Blocks of an unverified
   * feed are verified first.
   * @param onBlock - sees each block before it is merged and may stop the merge
   * @returns blocks merged; 0 when nothing is new; -1 when the feeds fork or are unrelated.
   *   After a reverse merge it counts our blocks now placed after `other`'s (picofeed v8:
   *   a 2-block feed reverse-merging its 1-block start returns 2).
   * @throws FEED_SIGNATURE when `other` holds a block that does not verify
   * @throws FEED_TOO_LARGE when the merged feed would exceed its limit
   * @throws what {@link Feed.from} throws when `other` is not a Feed (read under our limits)
   */
  merge(other: FeedLike, onBlock?: MergeCallback): number {
    const src = other instanceof Feed ? other : this.#feedOf(other)
    if (src.length === 0) return 0
    src.#verifyAll()
    let reverse = false
    let ahead: number
    try {
      ahead = this.diff(src)
    } catch (err) {
      if (!(err instanceof FeedError) || err.code !== 'FEED_UNRELATED') {
        if (err instanceof FeedError && err.code === 'FEED_DIVERGED') return -1
        throw err
      }
      try {
        ahead = src.diff(this)
        reverse = true
      } catch (err2) {
        if (
          err2 instanceof FeedError &&
          (err2.code === 'FEED_UNRELATED' || err2.code === 'FEED_DIVERGED')
        )
          return -1
        throw err2
      }
    }
    if (ahead < 1) return 0
    const from = reverse ? this : src
    let blocks = from.#blocks.slice(from.#blocks.length - ahead)
    if (onBlock) blocks = acceptedBy(blocks, onBlock)
    if (blocks.length === 0) return 0
    if (!reverse) {
      this.#appendBlocks(blocks)
      return blocks.length
    }
    const merged = src.#copy(this.#limits)
    merged.#appendBlocks(blocks)
    this.#buf = merged.#buf
    this.#tail = merged.#tail
    this.#blocks = merged.#blocks
    this.#keys = merged.#keys
    this.#keySet = merged.#keySet
    return blocks.length
  }

  /** Iterates the blocks in chain order. */
  [Symbol.iterator](): IterableIterator<Block> {
    return this.#blocks[Symbol.iterator]()
  }

  /** One line: block count, key count, bytes. */
  toString(): string {
    return `Feed(${this.length} blocks, ${this.#keys.length} keys, ${this.#tail} B)`
  }

  /**
   * A multi-line description for humans: one entry per block with its index, author,
   * signature, parent and the start of its body (as text and hex).
   */
  inspect(): string {
    return describeBlocks(this.toString(), this.#blocks)
  }

  /** What Node's `console.log` / `util.inspect` print: {@link Feed.inspect}. */
  [inspectSymbol](): string {
    return this.inspect()
  }
}

/** Same as {@link Feed.from}. */
export function feedFrom(input: FeedLike, options?: FeedFromOptions): Feed {
  return Feed.from(input, options)
}
