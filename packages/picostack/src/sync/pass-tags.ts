import { bytesEqual, toHex } from '@picostack/feed'
import type { ChainSummary } from '@picostack/repo'
import type { RangeFingerprint } from './chain-source.ts'
import {
  CHECK_BYTES,
  type FingerprintEntry,
  fingerprintBytes,
  type ItemsEntry,
  SHORT_PART_BYTES,
  TAG_PART_BYTES,
} from './ranges.ts'
import { saltedHashes } from './salted-hash.ts'

/** Bytes of the salted parts of a pass (docs/protocol.md, "Why tags"). */
export interface TagParts {
  /** Chain part of a list first tried ({@link SHORT_PART_BYTES}, 2). */
  short: number
  /** Chain part of a list whose short parts collide ({@link TAG_PART_BYTES}, 4). */
  wide: number
  /** Head part of a tag and of a lacks head ({@link TAG_PART_BYTES}, 4). */
  head: number
}

/** The protocol's parts: tests force collisions with narrower ones (both sides must agree). */
export const PROTOCOL_PARTS: TagParts = {
  short: SHORT_PART_BYTES,
  wide: TAG_PART_BYTES,
  head: TAG_PART_BYTES,
}

/** A list as {@link PassTags} reads it: its chain part width and its tags. */
type List = Pick<ItemsEntry, 'part' | 'tags' | 'genesis'>

/**
 * The salted values of one reconciliation pass (docs/protocol.md, "Why tags"): short
 * fingerprints, item tags (a chain part and a head part), the head parts of lacks heads and
 * the checks of lacks entries, all truncations of SHA-256(salt || value) for the pass's salt.
 */
export class PassTags {
  /**
   * @param salt - the pass's salt (`SALT_BYTES`), from its opening message
   * @param parts - bytes of the tag parts: {@link PROTOCOL_PARTS}
   */
  constructor(
    readonly salt: Uint8Array,
    readonly parts: TagParts = PROTOCOL_PARTS,
  ) {}

  /**
   * A range's fingerprint entry as sent in this pass (no fingerprint for count 0; its
   * 32-byte fingerprint salted and cut to {@link fingerprintBytes} of its count).
   */
  entry(prefix: Uint8Array, range: RangeFingerprint): FingerprintEntry {
    const { count } = range
    const fingerprint =
      count === 0
        ? undefined
        : saltedHashes(this.salt, [range.fingerprint], fingerprintBytes(count))
    return { kind: 'fingerprint', prefix, count, fingerprint }
  }

  /**
   * The list of `chains` (ascending by id) with chain parts of `part` bytes: the tags of
   * those whose head is not their genesis, then the chain parts of those whose head is.
   */
  listOf(chains: readonly ChainSummary[], part: number): List {
    const head = this.parts.head
    const later = chains.filter((c) => !bytesEqual(c.headId, c.chainId))
    const ones = chains.filter((c) => bytesEqual(c.headId, c.chainId))
    const ids = saltedHashes(
      this.salt,
      later.map((c) => c.chainId),
      part,
    )
    const heads = this.headParts(later.map((c) => c.headId))
    const tags = new Uint8Array(later.length * (part + head))
    for (let i = 0; i < later.length; i++) {
      tags.set(ids.subarray(i * part, (i + 1) * part), i * (part + head))
      tags.set(heads.subarray(i * head, (i + 1) * head), i * (part + head) + part)
    }
    const genesis = saltedHashes(
      this.salt,
      ones.map((c) => c.chainId),
      part,
    )
    return { part, tags, genesis }
  }

  /** The head parts of block ids `ids` (64 B each), one after the other. */
  headParts(ids: readonly Uint8Array[]): Uint8Array {
    return saltedHashes(this.salt, ids, this.parts.head)
  }

  /** A lacks entry's check ({@link CHECK_BYTES}) of the chains `ids`, in order. */
  check(ids: readonly Uint8Array[]): Uint8Array {
    const all = new Uint8Array(64 * ids.length)
    for (const [i, id] of ids.entries()) all.set(id, 64 * i)
    return saltedHashes(this.salt, [all], CHECK_BYTES)
  }

  /** Items a list names. */
  count(list: List): number {
    return list.tags.length / (list.part + this.parts.head) + list.genesis.length / list.part
  }

  /** The chain part of item `i` of a list, as a hex key. */
  chainKey(list: List, i: number): string {
    const later = list.tags.length / (list.part + this.parts.head)
    const at = i < later ? i * (list.part + this.parts.head) : (i - later) * list.part
    return toHex((i < later ? list.tags : list.genesis).subarray(at, at + list.part))
  }

  /** The head part of item `i` of a list; `undefined`: its head is its genesis. */
  headAt(list: List, i: number): Uint8Array | undefined {
    const stride = list.part + this.parts.head
    if (i >= list.tags.length / stride) return undefined
    const at = i * stride + list.part
    return list.tags.subarray(at, at + this.parts.head)
  }

  /**
   * `chains` by the hex key of their chain part of `part` bytes (a later chain of an equal
   * part is dropped).
   */
  byChainPart(chains: readonly ChainSummary[], part: number): Map<string, ChainSummary> {
    const parts = saltedHashes(
      this.salt,
      chains.map((c) => c.chainId),
      part,
    )
    const out = new Map<string, ChainSummary>()
    for (const [i, chain] of chains.entries()) {
      const key = toHex(parts.subarray(i * part, (i + 1) * part))
      if (!out.has(key)) out.set(key, chain)
    }
    return out
  }
}
