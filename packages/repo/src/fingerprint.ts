/**
 * The hashes of the reconciliation index (see README.md, "Reconciliation index"): an
 * item's digest and a trie node's fingerprint, both SHA-256 (FIPS 180-4) with a one-byte
 * domain tag, so that no item digest can be read as a node and no node as an item.
 *
 * SHA-256 is `node:crypto`'s one-shot `hash` where the platform has it (found through
 * `process.getBuiltinModule`, so bundlers never see a Node import: about 4x faster on a
 * 513-byte node), else `@noble/hashes` (browsers). Both give the same bytes.
 */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js'
import { SIG_BYTES } from '@picostack/feed'

/** Bytes of a fingerprint or digest. */
export const FINGERPRINT_BYTES = 32
/** Children of a trie node (one per nibble value). */
export const FANOUT = 16
/** Domain tag of an item digest. */
const ITEM_TAG = 0x00
/** Domain tag of a node fingerprint. */
export const NODE_TAG = 0x01
/** Bytes hashed for a node: tag, then 16 child fingerprints (513 B). */
export const NODE_INPUT_BYTES = 1 + FANOUT * FINGERPRINT_BYTES

/** The fingerprint of an empty range: 32 zero bytes. */
export const EMPTY_FINGERPRINT: Uint8Array = new Uint8Array(FINGERPRINT_BYTES)

type NodeHash = (algorithm: string, data: Uint8Array, encoding: 'buffer') => Uint8Array
type Process = { getBuiltinModule?: (id: string) => { hash?: NodeHash } | undefined }
const nodeHash = (globalThis as { process?: Process }).process?.getBuiltinModule?.(
  'node:crypto',
)?.hash

/**
 * SHA-256 (FIPS 180-4) of `data` (32 B, a plain Uint8Array): `node:crypto` where there is
 * one, else `@noble/hashes`. Also what the sync layer's salted tags hash with.
 */
export const sha256: (data: Uint8Array) => Uint8Array = nodeHash
  ? (data) => {
      const out = nodeHash('sha256', data, 'buffer')
      return new Uint8Array(out.buffer, out.byteOffset, FINGERPRINT_BYTES)
    }
  : (data) => nobleSha256(data)

/** Bytes hashed for an item: tag, chain id, head id, height. */
const ITEM_INPUT_BYTES = 1 + 2 * SIG_BYTES + 4
/**
 * The input of {@link itemDigest}, reused: hashing is synchronous and keeps nothing of its
 * input, and a fresh 133-B array would be allocated outside V8's young heap each time.
 */
const itemInput = new Uint8Array(ITEM_INPUT_BYTES)

/**
 * An item's digest (32 B): SHA-256( 0x00 | chain id (64 B) | head id (64 B) | u32be(height) ).
 * The item is a proven chain; it changes whenever the chain's head does. Both ids must be
 * 64 B (the repo's are).
 */
export function itemDigest(chainId: Uint8Array, headId: Uint8Array, height: number): Uint8Array {
  const input = itemInput
  input[0] = ITEM_TAG
  input.set(chainId, 1)
  input.set(headId, 1 + SIG_BYTES)
  const at = 1 + 2 * SIG_BYTES
  input[at] = height >>> 24
  input[at + 1] = height >>> 16
  input[at + 2] = height >>> 8
  input[at + 3] = height
  return sha256(input)
}
