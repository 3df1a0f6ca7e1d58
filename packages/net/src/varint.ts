import { NetError } from './errors.ts'

/**
 * Unsigned LEB128 varints (7 bits per byte, low group first) for frame lengths.
 * Bounded to {@link VARINT_MAX_BYTES} bytes: values stay below 2^28 (256 MiB).
 */
export const VARINT_MAX_BYTES = 4

/** Largest value a frame-length varint can hold: 2^28 - 1. */
export const VARINT_MAX_VALUE = 2 ** (7 * VARINT_MAX_BYTES) - 1

/** Bytes needed to encode `value` (1 to {@link VARINT_MAX_BYTES}). */
export function varintLength(value: number): number {
  let n = 1
  while (value >= 0x80) {
    value >>>= 7
    n++
  }
  return n
}

/**
 * Writes `value` at `offset` of `target`; returns the number of bytes written.
 * @throws NET_FRAME_TOO_LARGE when `value` is not an integer in 0..{@link VARINT_MAX_VALUE}
 */
export function varintEncode(value: number, target: Uint8Array, offset: number): number {
  if (!Number.isInteger(value) || value < 0 || value > VARINT_MAX_VALUE) {
    throw new NetError('NET_FRAME_TOO_LARGE', `varint out of range: ${value}`)
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
 * Incremental strict varint reader: feed bytes one at a time with {@link push}.
 * Rejects non-minimal encodings (a final 0x00 group after the first byte), anything
 * longer than {@link VARINT_MAX_BYTES}, and values above `max` as soon as they exceed it.
 */
export class VarintReader {
  private value = 0
  private count = 0

  /** @param max - largest value accepted */
  constructor(private readonly max: number) {}

  /** Bytes consumed by the varint in progress. */
  get bytesRead(): number {
    return this.count
  }

  /**
   * Consumes one byte: the decoded value when the varint is complete, else `undefined`.
   * After a complete value the reader is reset for the next varint.
   * @throws NET_MALFORMED on a non-minimal or over-long varint
   * @throws NET_FRAME_TOO_LARGE when the value exceeds `max`
   */
  push(byte: number): number | undefined {
    if (this.count > 0 && byte === 0) {
      throw new NetError('NET_MALFORMED', 'non-minimal varint')
    }
    this.value += (byte & 0x7f) * 2 ** (7 * this.count)
    this.count++
    if (this.value > this.max) {
      throw new NetError('NET_FRAME_TOO_LARGE', `frame length exceeds ${this.max}`)
    }
    if (byte & 0x80) {
      if (this.count >= VARINT_MAX_BYTES) {
        throw new NetError('NET_MALFORMED', `varint longer than ${VARINT_MAX_BYTES} bytes`)
      }
      return undefined
    }
    const value = this.value
    this.value = 0
    this.count = 0
    return value
  }
}
