import { FeedError } from './errors.ts'

/**
 * Unsigned LEB128 varints as used by the block format (7 bits per byte, low first).
 * Bounded: at most {@link VARINT_MAX_BYTES} bytes, so values stay below 2^28.
 */
export const VARINT_MAX_BYTES = 4

/** Largest value a bounded varint can hold: 2^28 - 1. */
export const VARINT_MAX_VALUE = 2 ** (7 * VARINT_MAX_BYTES) - 1

/** Bytes needed to encode `value`. */
export function varintLength(value: number): number {
  let n = 1
  while (value >= 0x80) {
    value = Math.floor(value / 128)
    n++
  }
  return n
}

/**
 * Writes `value` at `offset`; returns the number of bytes written.
 * @throws FEED_INVALID_INPUT when `value` is not a non-negative integer
 * @throws FEED_TOO_LARGE when `value` exceeds {@link VARINT_MAX_VALUE}
 */
export function varintEncode(value: number, target: Uint8Array, offset: number): number {
  if (!Number.isInteger(value) || value < 0) {
    throw new FeedError('FEED_INVALID_INPUT', `varint needs a non-negative integer: ${value}`)
  }
  if (value > VARINT_MAX_VALUE) {
    throw new FeedError('FEED_TOO_LARGE', `varint out of range: ${value}`)
  }
  let i = offset
  while (value >= 0x80) {
    target[i++] = (value & 0x7f) | 0x80
    value >>>= 7
  }
  target[i++] = value
  return i - offset
}

/**
 * Reads a varint at `offset`: `[value, bytesRead]`. Strict: rejects encodings longer than
 * needed (a trailing 0x00 continuation) and anything past {@link VARINT_MAX_BYTES}.
 * @throws FEED_DECODE on truncated, over-long or non-minimal varints
 */
export function varintDecode(
  source: Uint8Array,
  offset: number,
): [value: number, bytesRead: number] {
  let value = 0
  for (let i = 0; i < VARINT_MAX_BYTES; i++) {
    const at = offset + i
    if (at >= source.length) throw new FeedError('FEED_DECODE', 'truncated varint')
    const byte = source[at]!
    value |= (byte & 0x7f) << (7 * i)
    if (!(byte & 0x80)) {
      if (byte === 0 && i > 0) throw new FeedError('FEED_DECODE', 'non-minimal varint')
      return [value, i + 1]
    }
  }
  throw new FeedError('FEED_DECODE', `varint longer than ${VARINT_MAX_BYTES} bytes`)
}
