import { activeEd25519, type Block, SIG_BYTES, verifyBatch } from '@picostack/feed'

/** Below this many blocks, checking one by one on the calling thread is faster than a batch. */
const BATCH_FROM = 4

/** Index of the first block without an author header, or `blocks.length`. */
export function firstKeyless(blocks: readonly Block[]): number {
  for (let i = 0; i < blocks.length; i++) if (!blocks[i]!.key) return i
  return blocks.length
}

/**
 * Checks every block's signature under its own author key, in parallel where the platform
 * can (`verifyBatch` from `@picostack/feed`: WebCrypto Ed25519, which Node runs on its
 * thread pool); a run of fewer than 4 blocks is checked on the calling thread. A block
 * without an author header fails (the repo never stores one).
 * @returns the index of the first block that fails, or `blocks.length` when all verify
 */
export async function verifyBlocks(blocks: readonly Block[]): Promise<number> {
  const keyless = firstKeyless(blocks)
  const keyed = blocks.slice(0, keyless)
  if (keyed.length < BATCH_FROM) {
    const ed = activeEd25519()
    for (let i = 0; i < keyed.length; i++) {
      const block = keyed[i]!
      if (!ed.verify(block.sig, block.buffer.subarray(SIG_BYTES), block.key!)) return i
    }
    return keyless
  }
  const results = await verifyBatch(
    keyed.map((b) => ({ sig: b.sig, message: b.buffer.subarray(SIG_BYTES), publicKey: b.key! })),
  )
  const bad = results.indexOf(false)
  return bad === -1 ? keyless : bad
}
