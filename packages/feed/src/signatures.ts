import type { Block } from './block.ts'
import { bytesEqual } from './bytes.ts'
import { SIG_BYTES } from './codec.ts'
import { activeEd25519 } from './crypto.ts'
import { FeedError } from './errors.ts'
import { verifyBatch } from './verify-batch.ts'

/**
 * How many recent authors a block without an author header is checked against
 * (picofeed tries every earlier author; bounded here so hostile feeds stay linear).
 */
export const KEYLESS_CANDIDATES = 4

/**
 * Checks the signature of every block of a chain with the active Ed25519 (keyed blocks
 * under their author header, keyless ones as {@link verifyKeyless} says).
 * @throws FEED_SIGNATURE when a signature does not verify
 */
export function verifySignatures(blocks: readonly Block[]): void {
  const ed = activeEd25519()
  for (const [i, block] of blocks.entries()) {
    const key = block.key
    if (key && !ed.verify(block.sig, block.buffer.subarray(SIG_BYTES), key)) {
      throw new FeedError('FEED_SIGNATURE', `bad signature on block ${i}`)
    }
  }
  verifyKeyless(blocks)
}

/**
 * Like {@link verifySignatures}, but checks the keyed blocks with {@link verifyBatch}
 * (WebCrypto Ed25519 in browsers that have it, all checks in flight at once).
 * @throws FEED_SIGNATURE when a signature does not verify, as a rejected promise
 */
export async function verifySignaturesAsync(blocks: readonly Block[]): Promise<void> {
  const keyed = blocks.filter((b) => b.key)
  const results = await verifyBatch(
    keyed.map((b) => ({ sig: b.sig, message: b.buffer.subarray(SIG_BYTES), publicKey: b.key! })),
  )
  const bad = results.indexOf(false)
  if (bad !== -1)
    throw new FeedError('FEED_SIGNATURE', `bad signature on block ${blocks.indexOf(keyed[bad]!)}`)
  verifyKeyless(blocks)
}

/**
 * Checks every block without an author header against the authors of the most recent
 * keyed blocks before it (at most {@link KEYLESS_CANDIDATES} distinct keys, newest
 * first), so a hostile feed of many authors and keyless blocks costs O(blocks) checks.
 * @throws FEED_SIGNATURE when no such author verifies a keyless block
 */
export function verifyKeyless(blocks: readonly Block[]): void {
  const recent: Uint8Array[] = [] // distinct authors of the latest keyed blocks, newest first
  for (const [i, block] of blocks.entries()) {
    const key = block.key
    if (key) {
      const at = recent.findIndex((k) => bytesEqual(k, key))
      if (at !== 0) {
        if (at > 0) recent.splice(at, 1)
        recent.unshift(key)
        if (recent.length > KEYLESS_CANDIDATES) recent.pop()
      }
      continue
    }
    if (!recent.some((k) => block.verify(k))) {
      throw new FeedError('FEED_SIGNATURE', `block ${i} has no recent author key that verifies it`)
    }
  }
}
