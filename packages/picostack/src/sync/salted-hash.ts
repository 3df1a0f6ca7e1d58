/**
 * The salted hash of a reconciliation pass (docs/protocol.md, "Why tags"): the first bytes of
 * SHA-256(salt || value), for a salt drawn at random per pass. Item tags and fingerprints
 * sent in a pass are such truncations, so nobody can grind chains whose tags collide with
 * another's before the pass's salt is drawn.
 *
 * SHA-256 is the repo's (`sha256` of @picostack/repo: `node:crypto` or `@noble/hashes`).
 */
import { sha256 } from '@picostack/repo'

/** Bytes of a pass's salt. */
export const SALT_BYTES = 16

/**
 * For each of `values`, the first `bytes` bytes (1 to 32) of SHA-256(salt || value),
 * one after the other.
 */
export function saltedHashes(
  salt: Uint8Array,
  values: readonly Uint8Array[],
  bytes: number,
): Uint8Array {
  const out = new Uint8Array(values.length * bytes)
  for (const [i, value] of values.entries()) {
    const input = new Uint8Array(salt.length + value.length)
    input.set(salt)
    input.set(value, salt.length)
    out.set(sha256(input).subarray(0, bytes), i * bytes)
  }
  return out
}
