/**
 * One node of the reconciliation trie: the 16 children (count and fingerprint each) of a
 * prefix that holds 2 or more items, and its stored encoding.
 *
 * Value: `bitmap u16be` (bit `15 - c` set when child `c` holds an item) then, for each
 * such child in nibble order, `varint(count) | fingerprint (32 B)`. Empty children cost
 * nothing; a child holding one item stores that item's digest.
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

function corrupt(): never {
  throw new RepoError('REPO_CORRUPT', 'malformed trie node')
}

/** A trie node in memory; its hash input is kept whole so that hashing copies nothing. */
export class TrieNode {
  /** `0x01 | fingerprint of child 0 | ... | child 15` (513 B): the node's hash input. */
  readonly input: Uint8Array
  /** Items under each child. */
  readonly counts: number[]

  constructor(input = TrieNode.#emptyInput(), counts: number[] = new Array(FANOUT).fill(0)) {
    this.input = input
    this.counts = counts
  }

  static #emptyInput(): Uint8Array {
    const input = new Uint8Array(NODE_INPUT_BYTES)
    input[0] = NODE_TAG
    return input
  }

  /** An independent copy (cached nodes are never changed in place). */
  clone(): TrieNode {
    return new TrieNode(this.input.slice(), this.counts.slice())
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

  /** Child `c` as a range fingerprint (bytes copied). */
  child(c: number): RangeFingerprint {
    return { count: this.counts[c]!, fingerprint: this.childFingerprint(c).slice() }
  }

  /** Sets child `c` (an empty child when `count` is 0). */
  set(c: number, count: number, fingerprint: Uint8Array): void {
    this.counts[c] = count
    this.input.set(count === 0 ? EMPTY_FINGERPRINT : fingerprint, 1 + c * FINGERPRINT_BYTES)
  }

  /** The stored value (see the module comment). */
  encode(): Uint8Array {
    let bytes = 2
    let bitmap = 0
    for (let c = 0; c < FANOUT; c++) {
      const count = this.counts[c]!
      if (count === 0) continue
      bitmap |= 0x8000 >> c
      bytes += varintLength(count) + FINGERPRINT_BYTES
    }
    const out = new Uint8Array(bytes)
    out[0] = bitmap >> 8
    out[1] = bitmap & 0xff
    let at = 2
    for (let c = 0; c < FANOUT; c++) {
      const count = this.counts[c]!
      if (count === 0) continue
      at += varintEncode(count, out, at)
      out.set(this.childFingerprint(c), at)
      at += FINGERPRINT_BYTES
    }
    return out
  }

  /** @throws REPO_CORRUPT when `bytes` is not a node value of 2 or more items */
  static decode(bytes: Uint8Array): TrieNode {
    if (bytes.length < 2) corrupt()
    const node = new TrieNode()
    const bitmap = (bytes[0]! << 8) | bytes[1]!
    let at = 2
    try {
      for (let c = 0; c < FANOUT; c++) {
        if (!(bitmap & (0x8000 >> c))) continue
        const [count, read] = varintDecode(bytes, at)
        at += read
        if (count === 0 || at + FINGERPRINT_BYTES > bytes.length) corrupt()
        node.counts[c] = count
        node.input.set(bytes.subarray(at, at + FINGERPRINT_BYTES), 1 + c * FINGERPRINT_BYTES)
        at += FINGERPRINT_BYTES
      }
    } catch (cause) {
      if (cause instanceof RepoError) throw cause
      throw new RepoError('REPO_CORRUPT', 'malformed trie node', { cause })
    }
    if (at !== bytes.length || node.count < 2) corrupt()
    return node
  }
}
