/**
 * Range entries of a `ranges` message (docs/protocol.md, "Reconciliation"): ranges of the
 * canonical 16-ary trie over chain ids (`@picostack/repo`'s reconciliation index), each
 * named by a nibble prefix, compared by (count, fingerprint), listed as item tags once
 * small, and answered with what the receiver lacks.
 *
 * ```
 * fingerprint = [0, prefix, count] | [0, prefix, count, fingerprint(4 or 8 B)]   count 0 | >= 1
 * items       = [1, prefix, tags(6 B each), genesisTags(2 B each)]   1 or more in all
 * wide items  = [4, prefix, tags(8 B each), genesisTags(4 B each)]   1 or more in all
 * lacks       = [2, prefix, lack(bitmap, 0 B: none), check(2 B)] or
 *               [2, prefix, lack, check, [[index, height, head(4 B)], ...]]   1 or more heads
 * split       = [3, parent, [count, x16], fingerprints(4 or 8 B per count > 0)]   the 16 children
 * ```
 * A split is the short form of 16 fingerprint entries, `parent||0` .. `parent||15`; decoded,
 * it is those 16 entries again.
 * Fingerprints, tags and heads are salted with the pass's salt (`salted-hash.ts`).
 */
import { toHex } from '@picostack/feed'
import { KernelError } from '../errors.ts'

/**
 * Bytes of a range fingerprint on the wire for a range of more than 48 items: the first 8
 * of SHA-256(salt || the range's 32-byte fingerprint) (4 for 1 to 48 items, see
 * `fingerprintBytes`).
 */
export const FINGERPRINT_BYTES = 8
/** Most items of a range whose fingerprint travels as 4 bytes (a range a peer lists). */
export const SMALL_RANGE_ITEMS = 48

/**
 * Bytes of the fingerprint of a range of `count` (> 0) items on the wire: 4 up to
 * {@link SMALL_RANGE_ITEMS} (a collision hides at most that many items for one connection),
 * else {@link FINGERPRINT_BYTES}.
 */
export function fingerprintBytes(count: number): number {
  return count <= SMALL_RANGE_ITEMS ? 4 : FINGERPRINT_BYTES
}
/**
 * Bytes of a head part (the first 4 of SHA-256(salt || head id), in an item tag and a lacks
 * head) and of a wide chain part (the first 4 of SHA-256(salt || chain id)).
 */
export const TAG_PART_BYTES = 4
/** Bytes of a wide item tag: its chain part, then its head part ({@link TAG_PART_BYTES} each). */
export const TAG_BYTES = 2 * TAG_PART_BYTES
/**
 * Bytes of a short chain part (the first 2 of SHA-256(salt || chain id)): lists use it unless
 * two of the lister's own chain parts collide, or the receiver's check says a listed chain
 * part matched another chain of its own (docs/protocol.md, "Why tags").
 */
export const SHORT_PART_BYTES = 2
/**
 * Bytes of a lacks entry's check: the first 2 of SHA-256(salt || the chain ids the sender
 * matched to the listed items it holds, in list order).
 */
export const CHECK_BYTES = 2
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
  /** Salted: 4 B for a count of 1 to 48, else {@link FINGERPRINT_BYTES}; absent exactly when `count` is 0. */
  fingerprint: Uint8Array | undefined
}

/** Every item the sender holds in a range, as tags: "say what you lack of these". */
export interface ItemsEntry {
  /** Entry kind. */
  kind: 'items'
  /** Nibbles (each 0..15), 0 to 128 of them. */
  prefix: Uint8Array
  /**
   * Bytes of each chain part: `SHORT_PART_BYTES` (2, kind 1 on the wire) or
   * {@link TAG_PART_BYTES} (4, wide: kind 4).
   */
  part: number
  /**
   * `part` + {@link TAG_PART_BYTES} bytes per item whose head is not its genesis (chain
   * part, head part), in ascending chain id order; items `0 .. n - 1`.
   */
  tags: Uint8Array
  /**
   * `part` bytes per item whose head is its genesis (a one-block chain, whose head id is its
   * chain id): the chain part alone, in ascending chain id order; the items after those of
   * `tags`. At least one item in all; no two with the same chain part.
   */
  genesis: Uint8Array
}

/** The answer to an {@link ItemsEntry}: which of its items the sender lacks, and its other heads. */
export interface LacksEntry {
  /** Entry kind. */
  kind: 'lacks'
  /** The prefix of the items entry it answers. */
  prefix: Uint8Array
  /**
   * Bit i (of byte i >> 3, most significant first) set: the sender holds nothing of tag i's
   * chain; `ceil(n / 8)` bytes for `n` items, or 0 B when no bit is set.
   */
  lack: Uint8Array
  /**
   * The sender's heads of the listed chains whose head differs from the tag's, ascending by
   * `index` (the tag's position in the list): the head's height and the head part of its
   * salted tag ({@link TAG_PART_BYTES}). The lister knows the chain from `index`.
   */
  heads: LackedHead[]
  /**
   * `CHECK_BYTES` (2): the first bytes of SHA-256(salt || the chain ids of the sender's
   * chains it took the listed items it holds for, in list order). The lister compares it
   * with its own: another value means a chain part matched another chain (a collision).
   */
  check: Uint8Array
}

/** One head of a {@link LacksEntry}: the sender's head of a listed chain whose head differs. */
export interface LackedHead {
  /** The tag's position in the items entry answered (names the chain). */
  index: number
  /** Height of the sender's head in that chain. */
  height: number
  /** The head part of the head's salted tag ({@link TAG_PART_BYTES}, 4 B). */
  head: Uint8Array
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
  /** 16 {@link FingerprintEntry}s of one parent's children, on the wire only. */
  split: 3,
  /** {@link ItemsEntry} with 4-byte (wide) chain parts. */
  wideItems: 4,
} as const

/** Limits the range decoder enforces. */
export interface RangeDecodeLimits {
  /** Most entries in one message. */
  maxRanges: number
  /** Most item tags and heads in one message, all entries together. */
  maxItems: number
}

/**
 * Encodes a message's entries as CBOR-ready arrays: each run of the 16 fingerprint entries
 * of one parent's children, in order, as one split entry; every other entry as itself.
 */
export function rangeEntriesValue(entries: readonly RangeEntry[]): unknown[] {
  const out: unknown[] = []
  for (let i = 0; i < entries.length; ) {
    const children = childrenAt(entries, i)
    if (children) {
      const parent = children[0]!.prefix.subarray(0, -1)
      const counts = children.map((c) => c.count)
      const fingerprints = new Uint8Array(
        children.reduce((sum, c) => sum + (c.fingerprint?.length ?? 0), 0),
      )
      let at = 0
      for (const { fingerprint } of children) {
        if (!fingerprint) continue
        fingerprints.set(fingerprint, at)
        at += fingerprint.length
      }
      out.push([RangeKind.split, parent, counts, fingerprints])
      i += 16
    } else {
      out.push(rangeEntryValue(entries[i]!))
      i++
    }
  }
  return out
}

/** The 16 fingerprint entries `p||0` .. `p||15` starting at `entries[i]`, if they do. */
function childrenAt(entries: readonly RangeEntry[], i: number): FingerprintEntry[] | undefined {
  const first = entries[i]
  if (first?.kind !== 'fingerprint' || first.prefix.length === 0 || i + 16 > entries.length) {
    return undefined
  }
  const depth = first.prefix.length
  const parent = first.prefix.subarray(0, depth - 1)
  const run = entries.slice(i, i + 16)
  for (const [nibble, entry] of run.entries()) {
    const { prefix } = entry
    if (entry.kind !== 'fingerprint' || prefix.length !== depth || prefix[depth - 1] !== nibble) {
      return undefined
    }
    if (!isInside(prefix, parent)) return undefined
  }
  return run as FingerprintEntry[]
}

/** Encodes one entry as the CBOR-ready array. */
function rangeEntryValue(entry: RangeEntry): unknown[] {
  switch (entry.kind) {
    case 'fingerprint':
      return entry.count === 0
        ? [RangeKind.fingerprint, entry.prefix, 0]
        : [RangeKind.fingerprint, entry.prefix, entry.count, entry.fingerprint]
    case 'items': {
      const kind = entry.part === TAG_PART_BYTES ? RangeKind.wideItems : RangeKind.items
      return [kind, entry.prefix, entry.tags, entry.genesis]
    }
    case 'lacks': {
      const { prefix, lack, check, heads } = entry
      if (heads.length === 0) return [RangeKind.lacks, prefix, lack, check]
      return [RangeKind.lacks, prefix, lack, check, heads.map((h) => [h.index, h.height, h.head])]
    }
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

/** `prefix` followed by `nibble`. */
export function child(prefix: Uint8Array, nibble: number): Uint8Array {
  const out = new Uint8Array(prefix.length + 1)
  out.set(prefix)
  out[prefix.length] = nibble
  return out
}

/** The smaller of two resume points (undefined: none). */
export function earliest(
  a: Uint8Array | undefined,
  b: Uint8Array | undefined,
): Uint8Array | undefined {
  if (!a) return b
  if (!b) return a
  const order = comparePrefixes(a, b)
  if (order !== 0) return order < 0 ? a : b
  return a.length <= b.length ? a : b // one contains the other: the wider
}

/**
 * Decodes a `ranges` message's entries: shapes, strictly ascending non-overlapping
 * prefixes, and the per-message caps.
 * @throws KERNEL_PROTOCOL for a bad shape, an empty tag list, two tags of a list with the
 *   same chain part, heads not ascending by index, or prefixes out of order or overlapping
 * @throws KERNEL_TOO_LARGE past `maxRanges` entries (a split counting 16) or `maxItems`
 *   tags and heads
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
          count === 0 ? undefined : bytesOf(value[3], 'fingerprint', fingerprintBytes(count))
        entries.push({ kind: 'fingerprint', prefix, count, fingerprint })
        break
      }
      case RangeKind.items:
      case RangeKind.wideItems: {
        if (value.length !== 4) fail('an items entry must be an array of 4')
        const part = value[0] === RangeKind.items ? SHORT_PART_BYTES : TAG_PART_BYTES
        const tags = bytesOf(value[2], 'item tags')
        const genesis = bytesOf(value[3], 'genesis item tags')
        const tagBytes = part + TAG_PART_BYTES
        if (tags.length % tagBytes !== 0 || genesis.length % part !== 0) {
          fail(`item tags must be multiples of ${tagBytes} and ${part} bytes`)
        }
        const n = tags.length / tagBytes + genesis.length / part
        if (n === 0) fail('an items entry lists at least one item')
        items += n
        tooMany()
        if (!distinctChainParts(tags, genesis, part)) {
          fail('two item tags of a list with the same chain part')
        }
        entries.push({ kind: 'items', prefix, part, tags, genesis })
        break
      }
      case RangeKind.split: {
        if (value.length !== 4) fail('a split entry must be an array of 4')
        if (prefix.length >= MAX_PREFIX_NIBBLES) fail('a split of a whole chain id')
        const counts = value[2]
        if (!Array.isArray(counts) || counts.length !== 16) fail('a split carries 16 counts')
        const fingerprints = bytesOf(value[3], 'split fingerprints')
        let at = 0
        for (const [nibble, raw] of counts.entries()) {
          const count = countOf(raw, 'range count', 0)
          const width = count === 0 ? 0 : fingerprintBytes(count)
          const fingerprint = count === 0 ? undefined : fingerprints.subarray(at, (at += width))
          if (fingerprint && fingerprint.length !== width) {
            fail('a split carries a fingerprint per count > 0')
          }
          entries.push({ kind: 'fingerprint', prefix: child(prefix, nibble), count, fingerprint })
        }
        if (at !== fingerprints.length) fail('a split carries a fingerprint per count > 0')
        break
      }
      case RangeKind.lacks: {
        if (value.length !== 4 && value.length !== 5)
          fail('a lacks entry must be an array of 4 or 5')
        const lack = bytesOf(value[2], 'lack bitmap')
        const check = bytesOf(value[3], 'lacks check', CHECK_BYTES)
        const list = value.length === 4 ? [] : value[4]
        if (!Array.isArray(list) || (value.length === 5 && list.length === 0)) {
          fail('lacks heads must be a non-empty array')
        }
        items += list.length
        tooMany()
        let last = -1
        const heads = list.map((head: unknown) => {
          if (!Array.isArray(head) || head.length !== 3) fail('a head must be an array of 3')
          const index = countOf(head[0], 'head index', 0)
          if (index <= last) fail('lacks heads must ascend by index')
          last = index
          return {
            index,
            height: countOf(head[1], 'height', 1),
            head: bytesOf(head[2], 'head part', TAG_PART_BYTES),
          }
        })
        entries.push({ kind: 'lacks', prefix, lack, heads, check })
        break
      }
      default:
        fail(`unknown range entry kind ${String(value[0])}`)
    }
  }
  if (entries.length > limits.maxRanges) {
    throw new KernelError('KERNEL_TOO_LARGE', `over ${limits.maxRanges} ranges`)
  }
  return entries
}

/**
 * True when no two items of a list share their chain part: `tags` (chain part, head part of
 * `head` bytes) and `genesis` (chain part alone), `part` bytes a chain part.
 */
export function distinctChainParts(
  tags: Uint8Array,
  genesis: Uint8Array,
  part: number,
  head = TAG_PART_BYTES,
): boolean {
  const seen = new Set<string>()
  const stride = part + head
  const parts = [
    ...Array.from({ length: tags.length / stride }, (_, i) =>
      tags.subarray(stride * i, stride * i + part),
    ),
    ...Array.from({ length: genesis.length / part }, (_, i) =>
      genesis.subarray(part * i, part * (i + 1)),
    ),
  ]
  for (const bytes of parts) {
    const key = toHex(bytes)
    if (seen.has(key)) return false
    seen.add(key)
  }
  return true
}
