import { bytesEqual, toHex } from '@picostack/feed'
import type { ChainSummary } from '@picostack/repo'
import type { RangeFingerprint } from './chain-source.ts'
import {
  FINGERPRINT_BYTES,
  type FingerprintEntry,
  type ItemsEntry,
  TAG_PART_BYTES,
} from './ranges.ts'
import { saltedHashes } from './salted-hash.ts'

/**
 * The salted values of one reconciliation pass (docs/protocol.md, "Why tags"): short
 * fingerprints, item tags (a chain part and a head part) and the head parts of lacks heads,
 * all truncations of SHA-256(salt || value) for the pass's salt.
 */
export class PassTags {
  /**
   * @param salt - the pass's salt (`SALT_BYTES`), from its opening message
   * @param part - bytes of each tag part: the protocol's {@link TAG_PART_BYTES}; tests
   *   force collisions with 1
   */
  constructor(
    readonly salt: Uint8Array,
    readonly part = TAG_PART_BYTES,
  ) {}

  /** Bytes of one tag (its two parts). */
  get tagBytes(): number {
    return 2 * this.part
  }

  /** The range fingerprint (32 B) as sent in this pass ({@link FINGERPRINT_BYTES}). */
  fingerprint(fingerprint: Uint8Array): Uint8Array {
    return saltedHashes(this.salt, [fingerprint], FINGERPRINT_BYTES)
  }

  /** A range's fingerprint entry as sent in this pass (no fingerprint for count 0). */
  entry(prefix: Uint8Array, range: RangeFingerprint): FingerprintEntry {
    const { count } = range
    const fingerprint = count === 0 ? undefined : this.fingerprint(range.fingerprint)
    return { kind: 'fingerprint', prefix, count, fingerprint }
  }

  /**
   * The list of `chains` (ascending by id): the tags of those whose head is not their
   * genesis, then the chain parts of those whose head is.
   */
  listOf(chains: readonly ChainSummary[]): Pick<ItemsEntry, 'tags' | 'genesis'> {
    const later = chains.filter((c) => !bytesEqual(c.headId, c.chainId))
    const ones = chains.filter((c) => bytesEqual(c.headId, c.chainId))
    const ids = saltedHashes(
      this.salt,
      later.map((c) => c.chainId),
      this.part,
    )
    const heads = this.headParts(later.map((c) => c.headId))
    const tags = new Uint8Array(later.length * this.tagBytes)
    for (let i = 0; i < later.length; i++) {
      tags.set(ids.subarray(i * this.part, (i + 1) * this.part), i * this.tagBytes)
      tags.set(heads.subarray(i * this.part, (i + 1) * this.part), i * this.tagBytes + this.part)
    }
    const genesis = saltedHashes(
      this.salt,
      ones.map((c) => c.chainId),
      this.part,
    )
    return { tags, genesis }
  }

  /** The head parts of block ids `ids` (64 B each), one after the other. */
  headParts(ids: readonly Uint8Array[]): Uint8Array {
    return saltedHashes(this.salt, ids, this.part)
  }

  /** Items a list names. */
  count(list: Pick<ItemsEntry, 'tags' | 'genesis'>): number {
    return list.tags.length / this.tagBytes + list.genesis.length / this.part
  }

  /** The chain part of item `i` of a list, as a hex key. */
  chainKey(list: Pick<ItemsEntry, 'tags' | 'genesis'>, i: number): string {
    const later = list.tags.length / this.tagBytes
    const at = i < later ? i * this.tagBytes : (i - later) * this.part
    return toHex((i < later ? list.tags : list.genesis).subarray(at, at + this.part))
  }

  /** The head part of item `i` of a list; `undefined`: its head is its genesis. */
  headAt(list: Pick<ItemsEntry, 'tags' | 'genesis'>, i: number): Uint8Array | undefined {
    if (i >= list.tags.length / this.tagBytes) return undefined
    const at = i * this.tagBytes + this.part
    return list.tags.subarray(at, at + this.part)
  }

  /** `chains` by the hex key of their chain part (a later chain of an equal part is dropped). */
  byChainPart(chains: readonly ChainSummary[]): Map<string, ChainSummary> {
    const parts = saltedHashes(
      this.salt,
      chains.map((c) => c.chainId),
      this.part,
    )
    const out = new Map<string, ChainSummary>()
    for (const [i, chain] of chains.entries()) {
      const key = toHex(parts.subarray(i * this.part, (i + 1) * this.part))
      if (!out.has(key)) out.set(key, chain)
    }
    return out
  }
}
