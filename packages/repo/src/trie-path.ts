/**
 * Names of trie nodes in memory: a node's id ({@link NodeId}) stands for its prefix in the
 * maps of a batch's staging and of the in-memory top, and a {@link TriePath} gives the ids
 * and stored keys along one item's path. An id is a number for a prefix of up to
 * {@link NUMBERED_DEPTH} nibbles (no allocation; the trie holds deeper nodes only where ids
 * share 13 nibbles), a string of its stored key for a deeper one.
 */
import { trieKey } from './layout.ts'
import { mapKey } from './write-set.ts'

/** A trie node's prefix as a map key: a number down to {@link NUMBERED_DEPTH}, else a string. */
export type NodeId = number | string

/** The deepest prefix whose {@link NodeId} is a number (16^12 + ... + 1 < 2^53). */
export const NUMBERED_DEPTH = 12

/** The id of the first prefix of each depth: (16^d - 1) / 15, the prefixes above it. */
const DEPTH_START: readonly number[] = Array.from(
  { length: NUMBERED_DEPTH + 1 },
  (_, d) => (16 ** d - 1) / 15,
)

/** The {@link NodeId} of prefix number `index` (nibble order) of depth `depth` (at most 12). */
export function numberedId(depth: number, index: number): number {
  return DEPTH_START[depth]! + index
}

/** The {@link NodeId} of the prefix of the first `depth` nibbles of `nibbles`. */
export function nodeId(nibbles: Uint8Array, depth: number): NodeId {
  if (depth > NUMBERED_DEPTH) return mapKey(trieKey(nibbles.subarray(0, depth)))
  let index = 0
  for (let d = 0; d < depth; d++) index = index * 16 + nibbles[d]!
  return DEPTH_START[depth]! + index
}

/**
 * One item's path down the trie: its id's nibbles, and the node id of each depth (and its
 * stored key when asked for), each made once however often the batch's staging walks it.
 */
export class TriePath {
  readonly x: Uint8Array
  readonly #ids: NodeId[] = []

  constructor(x: Uint8Array) {
    this.x = x
  }

  /** The {@link NodeId} of the node of the first `depth` nibbles. */
  id(depth: number): NodeId {
    let id = this.#ids[depth]
    if (id === undefined) this.#ids[depth] = id = nodeId(this.x, depth)
    return id
  }

  /** The stored key of the node of the first `depth` nibbles (a new array each call). */
  key(depth: number): Uint8Array {
    return trieKey(this.x.subarray(0, depth))
  }
}
