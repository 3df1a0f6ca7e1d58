/**
 * The salted hash of a reconciliation pass (docs/protocol.md, "Why tags"): the first bytes of
 * SHA-256(salt || value), for a salt drawn at random per pass. Item tags and fingerprints
 * sent in a pass are such truncations, so nobody can grind chains whose tags collide with
 * another's before the pass's salt is drawn.
 *
 * SHA-256 is `node:crypto`'s one-shot `hash` where the platform has it (found through
 * `process.getBuiltinModule`, so bundlers never see a Node import: one call per value), else
 * WebCrypto's `crypto.subtle.digest` (browsers). Both give the same bytes.
 */

/** Bytes of a pass's salt. */
export const SALT_BYTES = 16

type NodeHash = (algorithm: string, data: Uint8Array, encoding: 'buffer') => Uint8Array
type Process = { getBuiltinModule?: (id: string) => { hash?: NodeHash } | undefined }
const nodeHash = (globalThis as { process?: Process }).process?.getBuiltinModule?.(
  'node:crypto',
)?.hash

/**
 * For each of `values`, the first `bytes` bytes (1 to 32) of SHA-256(salt || value),
 * one after the other.
 */
export async function saltedHashes(
  salt: Uint8Array,
  values: readonly Uint8Array[],
  bytes: number,
): Promise<Uint8Array> {
  const out = new Uint8Array(values.length * bytes)
  for (const [i, value] of values.entries()) {
    const input = new Uint8Array(salt.length + value.length)
    input.set(salt)
    input.set(value, salt.length)
    const digest = nodeHash
      ? nodeHash('sha256', input, 'buffer')
      : new Uint8Array(await crypto.subtle.digest('SHA-256', input))
    out.set(digest.subarray(0, bytes), i * bytes)
  }
  return out
}
