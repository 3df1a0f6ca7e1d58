/** Hand-built block bytes for tests that need layouts `Feed.append` never writes. */
import { activeEd25519, fromHex, getPublicKey, varintEncode } from '../src/index.ts'

/** The bytes of `parts` one after another. */
export const concat = (...parts: (Uint8Array | number[])[]): Uint8Array =>
  Uint8Array.from(parts.flatMap((p) => Array.from(p)))

/** The LEB128 varint of `value`. */
export function varint(value: number): Uint8Array {
  const out = new Uint8Array(4)
  return out.subarray(0, varintEncode(value, out, 0))
}

/** `0x00 0x01 key`: the author header of the public key of `secret`. */
export const authorHeader = (secret: string): number[] => [0, 1, ...fromHex(getPublicKey(secret))]

/** `0x00 0x02 sig`: a parent header. */
export const parentHeader = (sig: Uint8Array): number[] => [0, 2, ...sig]

/** sig | varint(data.length) | data, signed by `secret` unless a signature is given. */
export function rawBlock(
  data: Uint8Array | number[],
  secret: string,
  sig?: Uint8Array,
): Uint8Array {
  const unsigned = concat(varint(data.length), data)
  return concat(sig ?? activeEd25519().sign(unsigned, fromHex(secret)), unsigned)
}
