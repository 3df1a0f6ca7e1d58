import { bytesEqual } from '@picostack/feed'
import type { ChainSource, RangeFingerprint } from './chain-source.ts'

/**
 * Our count and fingerprint of ranges, read a parent's 16 children at a time: a message
 * answering a split names all 16, and one read serves them (the last parent read is kept).
 */
export class Siblings {
  #parent: Uint8Array | undefined
  #children: RangeFingerprint[] = []

  constructor(private readonly source: ChainSource) {}

  /** Count and fingerprint of `prefix`. */
  async of(prefix: Uint8Array): Promise<RangeFingerprint> {
    if (prefix.length === 0) return this.source.rangeFingerprint(prefix)
    const parent = prefix.subarray(0, prefix.length - 1)
    if (!this.#parent || !bytesEqual(this.#parent, parent)) {
      this.#children = await this.source.rangeChildren(parent)
      this.#parent = parent
    }
    return this.#children[prefix[prefix.length - 1]!]!
  }
}
