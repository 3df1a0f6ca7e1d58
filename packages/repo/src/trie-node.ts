/**
 * One node of the reconciliation trie: the 16 children (count and fingerprint each) of a
 * prefix that holds 2 or more items, and its stored encoding.
 *
 * Value: `bitmap u16be` (bit `15 - c` set when child `c` holds an item) then, for each
 * such child in nibble order, `varint(count) | fingerprint (32 B)`, and for a child of one
 * item (whose fingerprint is that item's digest) the first 16 bytes of its chain id after
 * that. Empty children cost nothing. The id head tells where a new item's path leaves the
 * old one's without reading the old item's chain record (for any two ids that share fewer
 * than 32 nibbles, that is, short of grinding 2^124 signatures).
 */
import { varintDecode, varintEncode, varintLength } from '@picostack/feed'
import { RepoError } from './errors.ts'
import {
  EMPTY_FINGERPRINT,
  FANOUT,
  FINGERPRINT_BYTES,
  NODE_INPUT_BYTES,
  NODE_TAG,
  sha256,
} from './fingerprint.ts'

/** count + fingerprint of one prefix range. */
export interface RangeFingerprint {
  /** Items (proven chains) whose id starts with the prefix. */
  count: number
  /** 32 B: zero bytes for no item, the item's digest for one, else the node's hash. */
  fingerprint: Uint8Array
}

/** Bytes of a chain id kept beside the digest of a child of one item. */
export const ID_HEAD_BYTES = 16

/** Where the id heads start in a node's bytes: after its hash input. */
const HEADS_AT = NODE_INPUT_BYTES
/** A node's bytes in memory: its hash input, then a {@link ID_HEAD_BYTES} slot per child. */
const NODE_BYTES = NODE_INPUT_BYTES + FANOUT * ID_HEAD_BYTES

function corrupt(): never {
  throw new RepoError('REPO_CORRUPT', 'malformed trie node')
}

/** Copies `length` bytes of `source` from `from` into `target` at `to` (no view made). */
function copyBytes(
  source: Uint8Array,
  from: number,
  target: Uint8Array,
  to: number,
  length: number,
): void {
  for (let i = 0; i < length; i++) target[to + i] = source[from + i]!
}

/**
 * A trie node in memory, in one buffer (one allocation per node): its hash input, kept
 * whole so that hashing copies nothing, then the id heads of its children of one item.
 */
export class TrieNode {
  /** `0x01 | fingerprint of child 0 | ... | child 15` (513 B): the node's hash input. */
  readonly input: Uint8Array
  /** {@link TrieNode.input}, then child `c`'s id head at `HEADS_AT + c * ID_HEAD_BYTES`. */
  readonly #bytes: Uint8Array
  /** Items under each child. */
  readonly counts: number[]
  /**
   * Bit `c` set: child `c`'s fingerprint in `input` is out of date (its count is right).
   * Only nodes kept in memory, never stored, have such children; see {@link TrieNode.setStale}.
   */
  stale = 0

  constructor(bytes = TrieNode.#emptyBytes(), counts: number[] = new Array(FANOUT).fill(0)) {
    this.#bytes = bytes
    this.input = bytes.subarray(0, NODE_INPUT_BYTES)
    this.counts = counts
  }

  static #emptyBytes(): Uint8Array {
    const bytes = new Uint8Array(NODE_BYTES)
    bytes[0] = NODE_TAG
    return bytes
  }

  /** An independent copy (cached nodes are never changed in place). */
  clone(): TrieNode {
    const copy = new TrieNode(this.#bytes.slice(), this.counts.slice())
    copy.stale = this.stale
    return copy
  }

  /** Items under this node. */
  get count(): number {
    let n = 0
    for (const c of this.counts) n += c
    return n
  }

  /** This node's fingerprint: SHA-256 of its hash input (32 B). */
  fingerprint(): Uint8Array {
    return sha256(this.input)
  }

  /** Fingerprint of child `c` (a view into the node: copy it to keep it). */
  childFingerprint(c: number): Uint8Array {
    const at = 1 + c * FINGERPRINT_BYTES
    return this.input.subarray(at, at + FINGERPRINT_BYTES)
  }

  /**
   * The first {@link ID_HEAD_BYTES} of the chain id of child `c` when it holds one item, else
   * `undefined` (a view into the node: copy it to keep it).
   */
  head(c: number): Uint8Array | undefined {
    if (this.counts[c] !== 1) return undefined
    const at = HEADS_AT + c * ID_HEAD_BYTES
    return this.#bytes.subarray(at, at + ID_HEAD_BYTES)
  }

  /** {@link TrieNode.head} of each child, in nibble order (views into the node). */
  get heads(): (Uint8Array | undefined)[] {
    return Array.from({ length: FANOUT }, (_, c) => this.head(c))
  }

  /** Child `c` as a range fingerprint (bytes copied). */
  child(c: number): RangeFingerprint {
    return { count: this.counts[c]!, fingerprint: this.childFingerprint(c).slice() }
  }

  /**
   * Sets child `c` (an empty child when `count` is 0); a child of one item takes the head
   * of its chain id (its first {@link ID_HEAD_BYTES}, copied).
   */
  set(c: number, count: number, fingerprint: Uint8Array, idHead?: Uint8Array): void {
    this.counts[c] = count
    const source = count === 0 ? EMPTY_FINGERPRINT : fingerprint
    copyBytes(source, 0, this.#bytes, 1 + c * FINGERPRINT_BYTES, FINGERPRINT_BYTES)
    if (count === 1) copyBytes(idHead!, 0, this.#bytes, HEADS_AT + c * ID_HEAD_BYTES, ID_HEAD_BYTES)
    this.stale &= ~(1 << c)
  }

  /**
   * Sets child `c` to a node of `count` (2 or more) items whose fingerprint is computed only
   * when read (the hashes up the in-memory top cost nothing per write this way).
   */
  setStale(c: number, count: number): void {
    this.counts[c] = count
    this.stale |= 1 << c
  }

  /** The stored value (see the module comment). */
  encode(): Uint8Array {
    let bytes = 2
    let bitmap = 0
    for (let c = 0; c < FANOUT; c++) {
      const count = this.counts[c]!
      if (count === 0) continue
      bitmap |= 0x8000 >> c
      bytes += varintLength(count) + FINGERPRINT_BYTES + (count === 1 ? ID_HEAD_BYTES : 0)
    }
    const out = new Uint8Array(bytes)
    out[0] = bitmap >> 8
    out[1] = bitmap & 0xff
    let at = 2
    for (let c = 0; c < FANOUT; c++) {
      const count = this.counts[c]!
      if (count === 0) continue
      at += varintEncode(count, out, at)
      copyBytes(this.#bytes, 1 + c * FINGERPRINT_BYTES, out, at, FINGERPRINT_BYTES)
      at += FINGERPRINT_BYTES
      if (count === 1) {
        copyBytes(this.#bytes, HEADS_AT + c * ID_HEAD_BYTES, out, at, ID_HEAD_BYTES)
        at += ID_HEAD_BYTES
      }
    }
    return out
  }

  /** @throws REPO_CORRUPT when `bytes` is not a node value of 2 or more items */
  static decode(bytes: Uint8Array): TrieNode {
    const node = new TrieNode()
    TrieNode.#walk(bytes, node)
    return node
  }

  /**
   * The items under the node stored as `bytes`, checked as {@link TrieNode.decode} checks
   * it but without building the node (no copy, no allocation).
   * @throws REPO_CORRUPT when `bytes` is not a node value of 2 or more items
   */
  static countOf(bytes: Uint8Array): number {
    return TrieNode.#walk(bytes)
  }

  /**
   * Walks the children of stored value `bytes`, setting each into `into` when given;
   * returns the items in all.
   * @throws REPO_CORRUPT when `bytes` is not a node value of 2 or more items
   */
  static #walk(bytes: Uint8Array, into?: TrieNode): number {
    if (bytes.length < 2) corrupt()
    const bitmap = (bytes[0]! << 8) | bytes[1]!
    let at = 2
    let total = 0
    try {
      for (let c = 0; c < FANOUT; c++) {
        if (!(bitmap & (0x8000 >> c))) continue
        const [count, read] = varintDecode(bytes, at)
        at += read
        const end = at + FINGERPRINT_BYTES + (count === 1 ? ID_HEAD_BYTES : 0)
        if (count === 0 || end > bytes.length) corrupt()
        if (into) {
          into.counts[c] = count
          into.#bytes.set(bytes.subarray(at, at + FINGERPRINT_BYTES), 1 + c * FINGERPRINT_BYTES)
          if (count === 1) {
            const head = HEADS_AT + c * ID_HEAD_BYTES
            into.#bytes.set(bytes.subarray(at + FINGERPRINT_BYTES, end), head)
          }
        }
        total += count
        at = end
      }
    } catch (cause) {
      if (cause instanceof RepoError) throw cause
      throw new RepoError('REPO_CORRUPT', 'malformed trie node', { cause })
    }
    if (at !== bytes.length || total < 2) corrupt()
    return total
  }
}
