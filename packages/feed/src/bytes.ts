import { FeedError } from './errors.ts'

/** Char codes of the 16 lowercase hex digits. */
const DIGITS = Array.from('0123456789abcdef', (c) => c.charCodeAt(0))
/** Whether a Uint16Array stores its low byte first (every engine we know of does). */
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1
/** The two hex digits of each byte value, as the 16-bit word whose bytes are them in order. */
const HEX_PAIRS = Uint16Array.from({ length: 256 }, (_, byte) => {
  const high = DIGITS[byte >> 4]!
  const low = DIGITS[byte & 15]!
  return LITTLE_ENDIAN ? (low << 8) | high : (high << 8) | low
})
/** Inputs up to this many bytes are spelled out in {@link hexScratch} (ids are 32 or 64 B). */
const HEX_SCRATCH_BYTES = 1024
const hexScratch = new Uint8Array(2 * HEX_SCRATCH_BYTES)
const hexScratchWords = new Uint16Array(hexScratch.buffer)
const utf8Encoder = new TextEncoder()
const utf8Decoder = new TextDecoder()

/**
 * Lowercase hex of `bytes`, as a flat string: ids made here are kept as map keys by the
 * store and the sync, and a string grown two characters at a time is a rope of small
 * strings until first flattened (about 7x the memory of a 128-character id, and 4x the
 * time, measured on Node 20). The digits are written two at a time (one 16-bit word per
 * byte) and decoded at once: 64 B take ~165 ns on Node 20, against ~780 ns for one
 * `String.fromCharCode` of a Uint16Array of the digits.
 * @throws FEED_INVALID_INPUT when `bytes` is not a Uint8Array
 */
export function toHex(bytes: Uint8Array): string {
  if (!(bytes instanceof Uint8Array)) {
    throw new FeedError('FEED_INVALID_INPUT', 'toHex expects a Uint8Array')
  }
  const small = bytes.length <= HEX_SCRATCH_BYTES
  const digits = small ? hexScratch : new Uint8Array(2 * bytes.length)
  const words = small ? hexScratchWords : new Uint16Array(digits.buffer)
  for (let i = 0; i < bytes.length; i++) words[i] = HEX_PAIRS[bytes[i]!]!
  // The digits are ASCII: UTF-8 decodes them as themselves.
  return utf8Decoder.decode(digits.subarray(0, 2 * bytes.length))
}

function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48 // 0-9
  if (c >= 97 && c <= 102) return c - 87 // a-f
  if (c >= 65 && c <= 70) return c - 55 // A-F
  return -1
}

/**
 * Bytes of a hex string (either case, even length, no prefix).
 * @throws FEED_INVALID_INPUT when `hex` is not a string of hex digit pairs
 */
export function fromHex(hex: string): Uint8Array {
  if (typeof hex !== 'string' || hex.length % 2 !== 0) {
    throw new FeedError('FEED_INVALID_INPUT', 'fromHex expects an even-length hex string')
  }
  const out = new Uint8Array(hex.length / 2)
  for (let i = 0; i < out.length; i++) {
    const hi = nibble(hex.charCodeAt(2 * i))
    const lo = nibble(hex.charCodeAt(2 * i + 1))
    if (hi < 0 || lo < 0) throw new FeedError('FEED_INVALID_INPUT', `not hex at ${2 * i}`)
    out[i] = (hi << 4) | lo
  }
  return out
}

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return utf8Encoder.encode(text)
}

/** The string of UTF-8 `bytes` (invalid sequences become U+FFFD). */
export function fromUtf8(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes)
}

/** True when `a` and `b` hold the same bytes. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/**
 * A Uint8Array view of any byte container: Uint8Array (Node `Buffer` included), other
 * ArrayBuffer views, or an ArrayBuffer. Never copies.
 * @throws FEED_INVALID_INPUT for anything else
 */
export function asBytes(input: unknown, what = 'input'): Uint8Array {
  if (input instanceof Uint8Array) return input
  if (ArrayBuffer.isView(input)) {
    return new Uint8Array(input.buffer, input.byteOffset, input.byteLength)
  }
  if (input instanceof ArrayBuffer) return new Uint8Array(input)
  throw new FeedError('FEED_INVALID_INPUT', `${what} must be bytes (Uint8Array)`)
}
