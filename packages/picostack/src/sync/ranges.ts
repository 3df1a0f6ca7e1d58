/**
 * Range entries of a `ranges` message (docs/protocol.md, "Reconciliation"): ranges of the
 * canonical 16-ary trie over chain ids (`@picostack/repo`'s reconciliation index), each
 * named by a nibble prefix, compared by (count, fingerprint), listed as item tags once
 * small, and answered with what the receiver lacks.
 *
 * ```
 * fingerprint = [0, prefix, count] | [0, prefix, count, fingerprint(32 B)]   count 0 | >= 1
 * items       = [1, prefix, tags(16 B each, >= 1)]
 * lacks       = [2, prefix, lack(bitmap), [[chainId(64 B), headId(64 B), height], ...]]
 * ```
 */
import { KernelError } from '../errors.ts'

/** Bytes of a range fingerprint (SHA-256). */
export const FINGERPRINT_BYTES = 32
/** Bytes of an item tag: the chain id's first 8 bytes, then the item digest's first 8. */
export const TAG_BYTES = 16
/** Deepest prefix: a whole chain id (64 B) in nibbles. */
export const MAX_PREFIX_NIBBLES = 128

/** A chain's head as a peer holds it (its chain id, head block id and height). */
export interface ChainHead {
  /** Chain id: the genesis block's signature (64 B). */
  chainId: Uint8Array // 64 B
  /** Newest block's id (64 B). */
  headId: Uint8Array // 64 B
  /** Blocks from genesis to head; genesis = 1. */
  height: number
}

/** The sender's count and fingerprint of one range: "compare yours". */
export interface FingerprintEntry {
  /** Entry kind. */
  kind: 'fingerprint'
  /** Nibbles (each 0..15), 0 to 128 of them. */
  prefix: Uint8Array
  /** Items (proven chains) the sender holds in the range. */
  count: number
  /** 32 B; absent exactly when `count` is 0. */
  fingerprint: Uint8Array | undefined
}

/** Every item the sender holds in a range, as tags: "say what you lack of these". */
export interface ItemsEntry {
  /** Entry kind. */
  kind: 'items'
  /** Nibbles (each 0..15), 0 to 128 of them. */
  prefix: Uint8Array
  /** {@link TAG_BYTES} per item, in ascending chain id order; at least one. */
  tags: Uint8Array
}

/** The answer to an {@link ItemsEntry}: which of its items the sender lacks, and its other heads. */
export interface LacksEntry {
  /** Entry kind. */
  kind: 'lacks'
  /** The prefix of the items entry it answers. */
  prefix: Uint8Array
  /** Bit i (of byte i >> 3, most significant first) set: the sender holds nothing of tag i's chain. */
  lack: Uint8Array
  /** The sender's heads of the listed chains whose digests differ from the tags'. */
  heads: ChainHead[]
}

/** One entry of a `ranges` message. */
export type RangeEntry = FingerprintEntry | ItemsEntry | LacksEntry

/** Numbers of the entry kinds (the first item of each entry). */
export const RangeKind = {
  /** {@link FingerprintEntry} */
  fingerprint: 0,
  /** {@link ItemsEntry} */
  items: 1,
  /** {@link LacksEntry} */
  lacks: 2,
} as const

/** Limits the range decoder enforces. */
export interface RangeDecodeLimits {
  /** Most entries in one message. */
  maxRanges: number
  /** Most item tags and heads in one message, all entries together. */
  maxItems: number
}

/** Encodes one entry as the CBOR-ready array. */
export function rangeEntryValue(entry: RangeEntry): unknown[] {
  switch (entry.kind) {
    case 'fingerprint':
      return entry.count === 0
        ? [RangeKind.fingerprint, entry.prefix, 0]
        : [RangeKind.fingerprint, entry.prefix, entry.count, entry.fingerprint]
    case 'items':
      return [RangeKind.items, entry.prefix, entry.tags]
    case 'lacks':
      return [
        RangeKind.lacks,
        entry.prefix,
        entry.lack,
        entry.heads.map((h) => [h.chainId, h.headId, h.height]),
      ]
  }
}

function fail(what: string): never {
  throw new KernelError('KERNEL_PROTOCOL', what)
}

function bytesOf(value: unknown, what: string, length?: number): Uint8Array {
  if (!(value instanceof Uint8Array)) fail(`${what} must be bytes`)
  if (length !== undefined && value.length !== length) fail(`${what} must be ${length} bytes`)
  return value
}

function countOf(value: unknown, what: string, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > 0xffff_ffff) {
    fail(`${what} must be an integer from ${min} to ${0xffff_ffff}`)
  }
  return value
}

/** Checks a prefix: at most 128 nibbles, each 0..15. */
export function prefixOf(value: unknown): Uint8Array {
  const prefix = bytesOf(value, 'range prefix')
  if (prefix.length > MAX_PREFIX_NIBBLES)
    fail(`a range prefix of over ${MAX_PREFIX_NIBBLES} nibbles`)
  for (const nibble of prefix) if (nibble > 15) fail('a range prefix nibble over 15')
  return prefix
}

/**
 * Orders prefixes in trie order: < 0 when every id under `a` sorts before every id under
 * `b`, > 0 for the reverse, 0 when one contains the other (they overlap).
 */
export function comparePrefixes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return 0
}

/** True when `inner` lies inside `outer` (or is it). */
export function isInside(inner: Uint8Array, outer: Uint8Array): boolean {
  return inner.length >= outer.length && comparePrefixes(inner, outer) === 0
}

/**
 * Decodes a `ranges` message's entries: shapes, strictly ascending non-overlapping
 * prefixes, and the per-message caps.
 * @throws KERNEL_PROTOCOL for a bad shape, an empty tag list, a lack bitmap of the wrong
 *   length, or prefixes out of order or overlapping
 * @throws KERNEL_TOO_LARGE past `maxRanges` entries or `maxItems` tags and heads
 */
export function decodeRangeEntries(list: unknown, limits: RangeDecodeLimits): RangeEntry[] {
  if (!Array.isArray(list)) fail('ranges entries must be an array')
  if (list.length > limits.maxRanges) {
    throw new KernelError('KERNEL_TOO_LARGE', `${list.length} ranges, limit ${limits.maxRanges}`)
  }
  let items = 0
  const tooMany = () => {
    if (items > limits.maxItems) {
      throw new KernelError('KERNEL_TOO_LARGE', `over ${limits.maxItems} items in one message`)
    }
  }
  const entries: RangeEntry[] = []
  let previous: Uint8Array | undefined
  for (const value of list) {
    if (!Array.isArray(value) || value.length < 3)
      fail('a range entry must be an array of 3 or more')
    const prefix = prefixOf(value[1])
    if (previous && comparePrefixes(previous, prefix) >= 0) {
      fail('ranges must be strictly ascending and must not overlap')
    }
    previous = prefix
    switch (value[0]) {
      case RangeKind.fingerprint: {
        const count = countOf(value[2], 'range count', 0)
        if (value.length !== (count === 0 ? 3 : 4)) {
          fail('a fingerprint entry carries a fingerprint exactly when its count is not 0')
        }
        const fingerprint =
          count === 0 ? undefined : bytesOf(value[3], 'fingerprint', FINGERPRINT_BYTES)
        entries.push({ kind: 'fingerprint', prefix, count, fingerprint })
        break
      }
      case RangeKind.items: {
        if (value.length !== 3) fail('an items entry must be an array of 3')
        const tags = bytesOf(value[2], 'item tags')
        if (tags.length === 0 || tags.length % TAG_BYTES !== 0) {
          fail(`item tags must be a non-empty multiple of ${TAG_BYTES} bytes`)
        }
        items += tags.length / TAG_BYTES
        tooMany()
        entries.push({ kind: 'items', prefix, tags })
        break
      }
      case RangeKind.lacks: {
        if (value.length !== 4) fail('a lacks entry must be an array of 4')
        const lack = bytesOf(value[2], 'lack bitmap')
        const list = value[3]
        if (!Array.isArray(list)) fail('lacks heads must be an array')
        items += list.length
        tooMany()
        const heads = list.map((head: unknown) => {
          if (!Array.isArray(head) || head.length !== 3) fail('a head must be an array of 3')
          return {
            chainId: bytesOf(head[0], 'chain id', 64),
            headId: bytesOf(head[1], 'head id', 64),
            height: countOf(head[2], 'height', 1),
          }
        })
        entries.push({ kind: 'lacks', prefix, lack, heads })
        break
      }
      default:
        fail(`unknown range entry kind ${String(value[0])}`)
    }
  }
  return entries
}
