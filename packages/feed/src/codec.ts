/**
 * The picofeed v8 binary layout (docs/block-format.md):
 *
 * ```
 * feed   = "PIC0" block*                       (magic optional when reading)
 * block  = sig[64] | varint(len(headers+body)) | header* | body
 * header = 0x00 | type[1] | value              type 1: author key [32], type 2: parent sig [64]
 * body   = >= 1 byte, first byte != 0x00
 * sig    = Ed25519 by the author over every byte after sig
 * ```
 */
import { FeedError } from './errors.ts'
import { varintDecode, varintEncode, varintLength } from './varint.ts'

/** The 4-byte feed magic `PIC0` (50 49 43 30). */
export const MAGIC = Uint8Array.of(0x50, 0x49, 0x43, 0x30)
/** Bytes in a signature, which is also a block's id. */
export const SIG_BYTES = 64
/** Header type of the author public key (value: 32 B). */
export const HEADER_AUTHOR = 1
/** Header type of the parent signature (value: 64 B). */
export const HEADER_PARENT = 2
/** Bytes the author header takes: 0x00, type, 32-byte key. */
const AUTHOR_HEADER_BYTES = 2 + 32
/** Bytes the parent header takes: 0x00, type, 64-byte sig. */
const PARENT_HEADER_BYTES = 2 + SIG_BYTES

/** Size limits applied when decoding and appending. */
export interface FeedLimits {
  /** Largest block body accepted, in bytes. Default 65,536 (64 KiB); at most 256 MiB - 100. */
  maxBodyBytes: number
  /** Largest feed accepted, in bytes of its encoding (magic included). Default 67,108,864 (64 MiB). */
  maxFeedBytes: number
}

/** Default {@link FeedLimits}: 64 KiB bodies, 64 MiB feeds. */
export const DEFAULT_LIMITS: Readonly<FeedLimits> = Object.freeze({
  maxBodyBytes: 64 * 1024,
  maxFeedBytes: 64 * 1024 * 1024,
})

/** Offsets of one block's parts, relative to the block's first byte. */
export interface BlockLayout {
  /** Total bytes of the block (sig + varint + headers + body). */
  blockSize: number
  /** Offset of the body. */
  bodyOffset: number
  /** Offset of the 32-byte author key, or -1 when the block has no author header. */
  keyOffset: number
  /** Offset of the 64-byte parent signature, or -1 on a genesis block. */
  parentOffset: number
}

/**
 * Reads the layout of the block that starts at `offset` in `source`.
 * @throws FEED_DECODE when the bytes are truncated or malformed
 * @throws FEED_TOO_LARGE when the body exceeds `limits.maxBodyBytes`
 */
export function scanBlock(source: Uint8Array, offset: number, limits: FeedLimits): BlockLayout {
  if (source.length - offset < SIG_BYTES + 2) {
    throw new FeedError('FEED_DECODE', `truncated block at byte ${offset}`)
  }
  const [dataSize, varintBytes] = varintDecode(source, offset + SIG_BYTES)
  const blockSize = SIG_BYTES + varintBytes + dataSize
  // A length beyond the bytes present is malformed (FEED_DECODE) whatever the limit; only
  // a block that is all there can be too large (checked on its body below).
  if (source.length - offset < blockSize) {
    throw new FeedError('FEED_DECODE', `truncated block at byte ${offset}`)
  }
  const end = offset + blockSize
  let at = offset + SIG_BYTES + varintBytes
  let keyOffset = -1
  let parentOffset = -1
  while (at < end && source[at] === 0) {
    const type = source[at + 1]
    const value = at + 2
    if (type === HEADER_AUTHOR && keyOffset === -1 && value + 32 <= end) {
      keyOffset = value - offset
      at = value + 32
    } else if (type === HEADER_PARENT && parentOffset === -1 && value + SIG_BYTES <= end) {
      parentOffset = value - offset
      at = value + SIG_BYTES
    } else {
      throw new FeedError('FEED_DECODE', `bad header ${type} in block at byte ${offset}`)
    }
  }
  const bodySize = end - at
  if (bodySize < 1) throw new FeedError('FEED_DECODE', `empty body in block at byte ${offset}`)
  if (bodySize > limits.maxBodyBytes) {
    throw new FeedError(
      'FEED_TOO_LARGE',
      `body of ${bodySize} bytes exceeds ${limits.maxBodyBytes}`,
    )
  }
  return { blockSize, bodyOffset: at - offset, keyOffset, parentOffset }
}

/** Bytes a block with a `bodyLength`-byte body takes, with or without a parent header. */
export function blockSizeFor(bodyLength: number, hasParent: boolean): number {
  const dataSize = AUTHOR_HEADER_BYTES + (hasParent ? PARENT_HEADER_BYTES : 0) + bodyLength
  return SIG_BYTES + varintLength(dataSize) + dataSize
}

/**
 * Writes an unsigned block (sig left zero) at `offset`: varint, author header, parent
 * header (when `parent` is given), body. Returns the block's size. The caller signs
 * `target.subarray(offset + 64, offset + size)` and writes the signature at `offset`.
 */
export function writeUnsignedBlock(
  target: Uint8Array,
  offset: number,
  body: Uint8Array,
  author: Uint8Array,
  parent: Uint8Array | undefined,
): number {
  const dataSize = AUTHOR_HEADER_BYTES + (parent ? PARENT_HEADER_BYTES : 0) + body.length
  let at = offset + SIG_BYTES
  at += varintEncode(dataSize, target, at)
  target[at++] = 0
  target[at++] = HEADER_AUTHOR
  target.set(author, at)
  at += 32
  if (parent) {
    target[at++] = 0
    target[at++] = HEADER_PARENT
    target.set(parent, at)
    at += SIG_BYTES
  }
  target.set(body, at)
  return at + body.length - offset
}

/** True when `source` starts with the `PIC0` magic. */
export function hasMagic(source: Uint8Array): boolean {
  return (
    source.length >= 4 &&
    source[0] === MAGIC[0] &&
    source[1] === MAGIC[1] &&
    source[2] === MAGIC[2] &&
    source[3] === MAGIC[3]
  )
}
