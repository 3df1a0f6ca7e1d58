/**
 * The top of the reconciliation trie, kept in memory: the nodes shallower than
 * {@link TRIE_STORED_DEPTH} (at most 1 + 16 + 256 = 273) live there only. They change with
 * nearly every write and would cost a rewrite of ~1.6 KB per write on disk; instead they
 * are derived, once per open, from what is stored: the nodes at depth
 * {@link TRIE_STORED_DEPTH} (up to 4,096, read in one range scan and kept too), and for the
 * ranges there of at most one item (which have no node), their chain records.
 */
import type { LevelDatabase } from './database.ts'
import { RepoError } from './errors.ts'
import { FANOUT, itemDigest } from './fingerprint.ts'
import { NS, nibblesOf, plain, prefixEnd, TRIE_STORED_DEPTH, trieKey } from './layout.ts'
import { decodeChain } from './records.ts'
import { type RangeFingerprint, TrieNode } from './trie-node.ts'
import { mapKey } from './write-set.ts'

const VIEW = { keyEncoding: 'view', valueEncoding: 'view' } as const
/** Ranges without a node read one by one below this many; above it, one scan of every chain. */
const SCAN_ONE_BY_ONE = 64

/** A range's count, fingerprint and (for one item) its chain id. */
type Range = RangeFingerprint & { head?: Uint8Array }

/** The number (in nibble order) of the prefix of the first `depth` nibbles of `nibbleAt`. */
function indexOf(nibbleAt: (d: number) => number, depth: number): number {
  let i = 0
  for (let d = 0; d < depth; d++) i = (i << 4) | nibbleAt(d)
  return i
}

/** The nibbles of prefix number `i` of `depth` nibbles (nibble order). */
function prefixAt(i: number, depth: number): Uint8Array {
  const out = new Uint8Array(depth)
  for (let d = depth - 1; d >= 0; d--, i >>= 4) out[d] = i & 0x0f
  return out
}

/**
 * The nodes down to depth {@link TRIE_STORED_DEPTH} (by `mapKey(trieKey(prefix))`) of the
 * committed index.
 * `soleItem(prefix)` reads the one item (or none) of a range that has no node.
 * @throws REPO_CORRUPT when stored nodes and chain records disagree
 */
export async function loadTop(
  db: LevelDatabase,
  soleItem: (prefix: Uint8Array) => Promise<{ id: Uint8Array; digest: Uint8Array } | undefined>,
): Promise<Map<string, TrieNode>> {
  const depth = TRIE_STORED_DEPTH
  const ranges: (Range | undefined)[] = new Array(16 ** depth).fill(undefined)
  const top = new Map<string, TrieNode>()
  for await (const [key, value] of db.iterator({
    gte: Uint8Array.of(NS.trie, depth),
    lt: Uint8Array.of(NS.trie, depth + 1),
    ...VIEW,
  })) {
    const node = TrieNode.decode(plain(value))
    const k = plain(key)
    top.set(mapKey(k), node)
    const i = indexOf((d) => (d & 1 ? k[2 + (d >> 1)]! & 0x0f : k[2 + (d >> 1)]! >> 4), depth)
    ranges[i] = { count: node.count, fingerprint: node.fingerprint() }
  }
  const missing = ranges.flatMap((range, i) => (range ? [] : [i]))
  if (missing.length <= SCAN_ONE_BY_ONE) {
    for (const i of missing) {
      const item = await soleItem(prefixAt(i, depth))
      ranges[i] = item && { count: 1, fingerprint: item.digest, head: item.id }
    }
  } else {
    const chains = Uint8Array.of(NS.chain)
    for await (const [key, value] of db.iterator({ gte: chains, lt: prefixEnd(chains), ...VIEW })) {
      const chain = decodeChain(plain(key).slice(1), plain(value))
      if (chain.claimed) continue
      const n = nibblesOf(chain.chainId)
      const i = indexOf((d) => n[d]!, depth)
      const range = ranges[i]
      if (range && range.count >= 2) continue // in a stored node
      if (range) throw new RepoError('REPO_CORRUPT', 'a range of several items has no trie node')
      ranges[i] = {
        count: 1,
        fingerprint: itemDigest(chain.chainId, chain.headId, chain.headHeight),
        head: chain.chainId,
      }
    }
  }
  // Up from the stored depth: a node per prefix of 2 or more items.
  let level = ranges
  for (let d = depth - 1; d >= 0; d--) {
    const upper: (Range | undefined)[] = new Array(16 ** d).fill(undefined)
    for (let i = 0; i < upper.length; i++) {
      const node = new TrieNode()
      for (let c = 0; c < FANOUT; c++) {
        const child = level[i * FANOUT + c]
        if (child) node.set(c, child.count, child.fingerprint, child.head)
      }
      const count = node.count
      if (count >= 2) {
        top.set(mapKey(trieKey(prefixAt(i, d))), node)
        upper[i] = { count, fingerprint: node.fingerprint() }
      } else if (count === 1) {
        const c = node.counts.indexOf(1)
        upper[i] = level[i * FANOUT + c]
      }
    }
    level = upper
  }
  return top
}
