import type { ChainHead } from './messages.ts'

/** Bytes of one packed entry: chain id (64 B), head id (64 B), height (u32, big-endian). */
const ENTRY_BYTES = 64 + 64 + 4

/**
 * A summary page's entries packed into one buffer as soon as the page is decoded, so a
 * page waiting to be handled holds about its own bytes, not an object per entry.
 */
export class PackedHeads {
  readonly #bytes: Uint8Array
  readonly #view: DataView
  /** Entries in the page. */
  readonly count: number

  constructor(chains: readonly ChainHead[]) {
    this.count = chains.length
    this.#bytes = new Uint8Array(chains.length * ENTRY_BYTES)
    this.#view = new DataView(this.#bytes.buffer)
    for (const [i, chain] of chains.entries()) {
      const at = i * ENTRY_BYTES
      this.#bytes.set(chain.chainId, at)
      this.#bytes.set(chain.headId, at + 64)
      this.#view.setUint32(at + 128, chain.height)
    }
  }

  /** Chain id of entry `i` (64 B, a view). */
  chainId(i: number): Uint8Array {
    return this.#bytes.subarray(i * ENTRY_BYTES, i * ENTRY_BYTES + 64)
  }

  /** Head id of entry `i` (64 B, a view). */
  headId(i: number): Uint8Array {
    return this.#bytes.subarray(i * ENTRY_BYTES + 64, i * ENTRY_BYTES + 128)
  }

  /** Height of entry `i`'s head. */
  height(i: number): number {
    return this.#view.getUint32(i * ENTRY_BYTES + 128)
  }
}
