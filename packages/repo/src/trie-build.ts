/**
 * Builds the reconciliation trie from scratch, for a database written before the index
 * existed (or by another index version). One pass over the chain records, which are stored
 * in chain id order: a stack of open nodes along the current id (at most 128) is all it
 * holds in memory, so a repo of any size builds in O(items) time and O(1) memory.
 */
import { type LevelDatabase, writeBatch } from './database.ts'
import { itemDigest } from './fingerprint.ts'
import { NS, nibblesOf, plain, prefixEnd, TRIE_STORED_DEPTH, trieKey } from './layout.ts'
import { decodeChain } from './records.ts'
import { TrieNode } from './trie-node.ts'
import type { Op } from './write-set.ts'

const VIEW = { keyEncoding: 'view', valueEncoding: 'view' } as const
/** Operations per batch while building. */
const BUILD_BATCH = 4096

/** The count and fingerprint of the range of the first `depth` nibbles of the last item. */
interface Result {
  count: number
  fingerprint: Uint8Array
  depth: number
  /** The chain id of a range of one item. */
  head?: Uint8Array
}

/**
 * Deletes every stored trie node, then writes the trie of the proven chains' items. The
 * caller writes the version key after it: a crash before that leaves the build to be done
 * again at the next open (which starts by deleting what this one left).
 */
export async function buildTrie(db: LevelDatabase): Promise<void> {
  let ops: Op[] = []
  const push = async (op: Op) => {
    ops.push(op)
    if (ops.length >= BUILD_BATCH) {
      await writeBatch(db, ops)
      ops = []
    }
  }
  const trie = Uint8Array.of(NS.trie)
  for await (const key of db.keys({ gte: trie, lt: prefixEnd(trie), ...VIEW })) {
    await push({ type: 'del', key: plain(key).slice() })
  }
  const builder = new TrieBuilder()
  const chains = Uint8Array.of(NS.chain)
  for await (const [key, value] of db.iterator({ gte: chains, lt: prefixEnd(chains), ...VIEW })) {
    const chain = decodeChain(plain(key).slice(1), plain(value))
    if (chain.claimed) continue
    builder.add(chain.chainId, itemDigest(chain.chainId, chain.headId, chain.headHeight))
    for (const op of builder.take()) await push(op)
  }
  builder.finish()
  for (const op of builder.take()) await push(op)
  if (ops.length > 0) await writeBatch(db, ops)
}

/** Emits the nodes of the trie of items added in ascending id order. */
class TrieBuilder {
  /** Open nodes along the last item's id, shallowest first (strictly deeper each). */
  readonly #open: { depth: number; node: TrieNode }[] = []
  /** Nibbles of the last item added. */
  #last: Uint8Array | undefined
  /** The range closed last, still to be placed into its parent. */
  #result: Result | undefined
  #ops: Op[] = []

  /** Node writes emitted since the last call. */
  take(): Op[] {
    const ops = this.#ops
    this.#ops = []
    return ops
  }

  /** Adds the next item (ids strictly ascending). */
  add(chainId: Uint8Array, digest: Uint8Array): void {
    const x = nibblesOf(chainId)
    if (this.#last) {
      let common = 0
      while (x[common] === this.#last[common]) common++
      this.#close(common)
    }
    this.#last = x
    this.#result = { count: 1, fingerprint: digest, depth: x.length, head: chainId }
  }

  /** Closes every open node (after the last item). */
  finish(): void {
    if (this.#last) this.#close(-1)
  }

  /**
   * Closes the open nodes deeper than `depth` (the ranges the next item is not in) and puts
   * the result into the node at `depth` (opened when needed); with -1, closes them all.
   */
  #close(depth: number): void {
    const last = this.#last!
    let result = this.#result!
    for (let top = this.#open.at(-1); top && top.depth > depth; top = this.#open.at(-1)) {
      result = this.#lift(result, top.depth + 1)
      top.node.set(last[top.depth]!, result.count, result.fingerprint, result.head)
      this.#open.pop()
      this.#emit(top.depth, top.node)
      result = { count: top.node.count, fingerprint: top.node.fingerprint(), depth: top.depth }
    }
    if (depth < 0) {
      this.#lift(result, 0)
      return
    }
    let top = this.#open.at(-1)
    if (top?.depth !== depth) {
      top = { depth, node: new TrieNode() }
      this.#open.push(top)
    }
    result = this.#lift(result, depth + 1)
    top.node.set(last[depth]!, result.count, result.fingerprint, result.head)
  }

  /**
   * `result` as the range of the first `depth` nibbles: a range of 2 or more items passes
   * up through one single-child node per level (one item needs none).
   */
  #lift(result: Result, depth: number): Result {
    if (result.count < 2) return { ...result, depth }
    const last = this.#last!
    let lifted = result
    while (lifted.depth > depth) {
      const node = new TrieNode()
      node.set(last[lifted.depth - 1]!, lifted.count, lifted.fingerprint)
      this.#emit(lifted.depth - 1, node)
      lifted = { count: lifted.count, fingerprint: node.fingerprint(), depth: lifted.depth - 1 }
    }
    return lifted
  }

  /** Writes the node (only from the stored depth down: the top is derived at open). */
  #emit(depth: number, node: TrieNode): void {
    if (depth < TRIE_STORED_DEPTH) return
    this.#ops.push({
      type: 'put',
      key: trieKey(this.#last!.subarray(0, depth)),
      value: node.encode(),
    })
  }
}
