/**
 * The top of the reconciliation trie, kept in memory: the nodes shallower than
 * {@link TRIE_STORED_DEPTH} (at most 1 + 16 + 256 = 273) live there only. They change with
 * nearly every write and would cost a rewrite of ~1.6 KB per write on disk; instead they
 * are derived, once per open, from what is stored: the nodes at depth
 * {@link TRIE_STORED_DEPTH} (up to 4,096, read in one range scan and kept too), and for the
 * ranges there of at most one item (which have no node), their chain records.
 *
 * The open reads only what the shape of the top needs: each stored node's item count. A
 * stored node is kept as its stored bytes and decoded when first used (a write's path, or
 * a read of a fingerprint), and the fingerprints of the derived nodes are computed when
 * first read ({@link TrieNode.setStale}): a repo of 100,000 chains took 45-78 ms to
 * decode and hash all 4,096 nodes at its first write, which a gc of 1,000 chains paid.
 *
 * The ranges of one item at the stored depth have no node: their items are found in the
 * chain records (a pass over all of them while such ranges are many, below ~25,000 chains:
 * ~60 ms at 10,000 here), or in the {@link savedTop} a clean close left, which the first
 * write after the open drops (see `RangeIndex`).
 */
import type { LevelDatabase } from './database.ts'
import { RepoError } from './errors.ts'
import { FANOUT, FINGERPRINT_BYTES, itemDigest } from './fingerprint.ts'
import { NS, plain, prefixEnd, TRIE_STORED_DEPTH } from './layout.ts'
import { decodeChain } from './records.ts'
import { ID_HEAD_BYTES, TrieNode } from './trie-node.ts'
import { type NodeId, numberedId } from './trie-path.ts'

const VIEW = { keyEncoding: 'view', valueEncoding: 'view' } as const
/**
 * Bytes a range scan of the stored depth reads per step where the database supports it
 * (classic-level's `highWaterMarkBytes`; others ignore it): the 4,096 nodes of a full
 * depth are ~2.2 MB, read in 16 KB steps by default.
 */
const SCAN_STEP_BYTES = 1 << 20
/** Ranges without a node read one by one below this many; above it, one scan of every chain. */
const SCAN_ONE_BY_ONE = 64

/**
 * A range's count and, for one item, its digest and chain id (a range of 2 or more items
 * has a node, whose fingerprint is computed when read).
 */
interface Range {
  count: number
  item?: { digest: Uint8Array; head: Uint8Array }
}

/**
 * The nodes of the top by {@link NodeId}: those of the stored depth are kept as
 * read (their stored bytes) until first asked for, then decoded once.
 */
export class TopNodes {
  readonly #nodes = new Map<NodeId, TrieNode>()
  readonly #packed = new Map<NodeId, Uint8Array>()

  /**
   * The node under `key`, or `undefined`.
   * @throws REPO_CORRUPT when its stored bytes do not decode
   */
  get(key: NodeId): TrieNode | undefined {
    const node = this.#nodes.get(key)
    if (node) return node
    const bytes = this.#packed.get(key)
    if (!bytes) return undefined
    const decoded = TrieNode.decode(bytes)
    this.#packed.delete(key)
    this.#nodes.set(key, decoded)
    return decoded
  }

  /**
   * A copy of the node under `key` that the caller may change (a node of the stored depth
   * not used yet is decoded for it, and stays as stored here), or `undefined`.
   * @throws REPO_CORRUPT when its stored bytes do not decode
   */
  copy(key: NodeId): TrieNode | undefined {
    const bytes = this.#packed.get(key)
    return bytes ? TrieNode.decode(bytes) : this.#nodes.get(key)?.clone()
  }

  set(key: NodeId, node: TrieNode): void {
    this.#packed.delete(key)
    this.#nodes.set(key, node)
  }

  /** Keeps the stored bytes of a node, decoded when first asked for. */
  setStored(key: NodeId, bytes: Uint8Array): void {
    this.#nodes.delete(key)
    this.#packed.set(key, bytes)
  }

  delete(key: NodeId): void {
    this.#packed.delete(key)
    this.#nodes.delete(key)
  }

  /**
   * The items of one-item children of the nodes above the stored depth, in nibble order:
   * {@link SAVED_ITEM_BYTES} each (id head 16 B, digest 32 B), what {@link loadTop} needs
   * besides the stored nodes; `undefined` without a root node (at most one item, which no
   * node holds: the top is not saved then).
   * @throws REPO_CORRUPT when a node of 2 or more items above the stored depth is missing
   */
  savedTop(): Uint8Array | undefined {
    const items: Uint8Array[] = []
    if (!this.#nodes.has(numberedId(0, 0))) return undefined
    const walk = (depth: number, i: number) => {
      const node = this.#nodes.get(numberedId(depth, i))
      if (!node) throw corrupt('an in-memory trie node lacks a child node')
      for (let c = 0; c < FANOUT; c++) {
        const head = node.head(c)
        if (head) items.push(head, node.childFingerprint(c))
        else if (node.counts[c]! >= 2 && depth + 1 < TRIE_STORED_DEPTH)
          walk(depth + 1, i * FANOUT + c)
      }
    }
    walk(0, 0)
    const out = new Uint8Array((items.length / 2) * SAVED_ITEM_BYTES)
    for (let k = 0; k < items.length; k += 2) {
      out.set(items[k]!, (k / 2) * SAVED_ITEM_BYTES)
      out.set(items[k + 1]!, (k / 2) * SAVED_ITEM_BYTES + ID_HEAD_BYTES)
    }
    return out
  }
}

/** Bytes of one item of a saved top: id head (16 B), digest (32 B). */
export const SAVED_ITEM_BYTES = ID_HEAD_BYTES + FINGERPRINT_BYTES

function corrupt(message: string): RepoError {
  return new RepoError('REPO_CORRUPT', message)
}

/**
 * The number (in nibble order) of the prefix of the first `depth` nibbles packed two per
 * byte in `bytes` from byte `at` on (an id, or a key after its namespace and depth).
 */
function indexOf(bytes: Uint8Array, at: number, depth: number): number {
  let i = 0
  for (let d = 0; d < depth; d++) {
    const byte = bytes[at + (d >> 1)]!
    i = (i << 4) | (d & 1 ? byte & 0x0f : byte >> 4)
  }
  return i
}

/** The nibbles of prefix number `i` of `depth` nibbles (nibble order). */
function prefixAt(i: number, depth: number): Uint8Array {
  const out = new Uint8Array(depth)
  for (let d = depth - 1; d >= 0; d--, i >>= 4) out[d] = i & 0x0f
  return out
}

/**
 * The nodes down to depth {@link TRIE_STORED_DEPTH} (by {@link NodeId}) of the
 * committed index.
 * `soleItem(prefix)` reads the one item (or none) of a range that has no node; `saved`, a
 * {@link TopNodes.savedTop} of the same committed index, gives them all instead.
 * @throws REPO_CORRUPT when stored nodes and chain records (or `saved`) disagree
 */
export async function loadTop(
  db: LevelDatabase,
  soleItem: (prefix: Uint8Array) => Promise<{ id: Uint8Array; digest: Uint8Array } | undefined>,
  saved?: Uint8Array,
): Promise<TopNodes> {
  const depth = TRIE_STORED_DEPTH
  const ranges: (Range | undefined)[] = new Array(16 ** depth).fill(undefined)
  const top = new TopNodes()
  // Not a literal at the call: the step option is classic-level's, past ViewRange.
  const scan = {
    gte: Uint8Array.of(NS.trie, depth),
    lt: Uint8Array.of(NS.trie, depth + 1),
    highWaterMarkBytes: SCAN_STEP_BYTES,
    ...VIEW,
  }
  for await (const [key, value] of db.iterator(scan)) {
    const bytes = plain(value)
    const k = plain(key)
    const count = TrieNode.countOf(bytes)
    const i = indexOf(k, 2, depth)
    top.setStored(numberedId(depth, i), bytes)
    ranges[i] = { count }
  }
  const missing = saved ? [] : ranges.flatMap((range, i) => (range ? [] : [i]))
  if (saved) {
    if (saved.length % SAVED_ITEM_BYTES !== 0) throw corrupt('a saved trie top is malformed')
    for (let at = 0; at < saved.length; at += SAVED_ITEM_BYTES) {
      const head = saved.slice(at, at + ID_HEAD_BYTES)
      const i = indexOf(head, 0, depth)
      if (ranges[i]) throw corrupt('a saved trie top disagrees with the stored nodes')
      const digest = saved.slice(at + ID_HEAD_BYTES, at + SAVED_ITEM_BYTES)
      ranges[i] = { count: 1, item: { digest, head } }
    }
  } else if (missing.length <= SCAN_ONE_BY_ONE) {
    for (const i of missing) {
      const item = await soleItem(prefixAt(i, depth))
      ranges[i] = item && { count: 1, item: { digest: item.digest, head: item.id } }
    }
  } else {
    const chains = Uint8Array.of(NS.chain)
    for await (const [key, value] of db.iterator({ gte: chains, lt: prefixEnd(chains), ...VIEW })) {
      const chain = decodeChain(plain(key).slice(1), plain(value))
      if (chain.claimed) continue
      const i = indexOf(chain.chainId, 0, depth)
      const range = ranges[i]
      if (range && range.count >= 2) continue // in a stored node
      if (range) throw corrupt('a range of several items has no trie node')
      ranges[i] = {
        count: 1,
        item: {
          digest: itemDigest(chain.chainId, chain.headId, chain.headHeight),
          head: chain.chainId,
        },
      }
    }
  }
  // Up from the stored depth: a node per prefix of 2 or more items, its children's
  // fingerprints left to be computed when read.
  let level = ranges
  for (let d = depth - 1; d >= 0; d--) {
    const upper: (Range | undefined)[] = new Array(16 ** d).fill(undefined)
    for (let i = 0; i < upper.length; i++) {
      const node = new TrieNode()
      for (let c = 0; c < FANOUT; c++) {
        const child = level[i * FANOUT + c]
        if (child?.item) node.set(c, 1, child.item.digest, child.item.head)
        else if (child) node.setStale(c, child.count)
      }
      const count = node.count
      if (count >= 2) {
        top.set(numberedId(d, i), node)
        upper[i] = { count }
      } else if (count === 1) {
        const c = node.counts.indexOf(1)
        upper[i] = level[i * FANOUT + c]
      }
    }
    level = upper
  }
  return top
}
