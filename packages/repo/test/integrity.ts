/**
 * A full consistency check of a repo database (no Node imports): every tag points at a
 * stored block, every chain is contiguous and links back to its genesis or first kept
 * block, every index entry agrees with the block it names, and the stored reconciliation
 * trie is exactly the one the reference (reference-trie.ts) computes from the chain
 * records. Returns the problems found.
 */
import { Block, bytesEqual, SIG_BYTES, toHex } from '@picostack/feed'
import {
  chainNoOfBlockKey,
  chainNoOfTagKey,
  heightOfBlockKey,
  LAYOUT_KEY,
  LAYOUT_VERSION,
  NS,
  plain,
  TRIE_STORED_DEPTH,
} from '../src/layout.ts'
import { INDEX_KEY } from '../src/range-index.ts'
import {
  AUTHOR_BYTES,
  type ChainRecord,
  decodeAuthored,
  decodeChain,
  decodePlacement,
  decodeU64,
  type Placement,
} from '../src/records.ts'
import { TrieNode } from '../src/trie-node.ts'
import { SEQ_KEY } from '../src/write-set.ts'
import type { Db } from './helpers.ts'
import { type RefItem, type RefRange, refItem, refNodes } from './reference-trie.ts'

const VIEW = { keyEncoding: 'view', valueEncoding: 'view' } as const

export async function integrityProblems(db: Db): Promise<string[]> {
  const problems: string[] = []
  const placements = new Map<string, Placement>()
  const chains = new Map<string, ChainRecord>()
  const blocks = new Map<string, { height: number; block: Block }[]>()
  /** Owned (0x04) and authored (0x05) keys with their values. */
  const tags: [Uint8Array, Uint8Array][] = []
  let layout: Uint8Array | undefined
  const partials: Uint8Array[] = []
  /** Chain ids by chain number (the `0x09` index). */
  const chainIds = new Map<number, string>()
  const blocksByNo = new Map<number, { height: number; block: Block }[]>()
  let seq: number | undefined
  let indexVersion: Uint8Array | undefined
  /** Stored trie nodes: prefix nibbles in hex -> value. */
  const trie = new Map<string, Uint8Array>()
  for await (const [k, v] of db.iterator(VIEW)) {
    const key = plain(k)
    const value = plain(v)
    const rest = key.subarray(1)
    switch (key[0]) {
      case NS.placement:
        placements.set(toHex(rest), decodePlacement(value))
        break
      case NS.block: {
        const chainNo = chainNoOfBlockKey(key)
        const list = blocksByNo.get(chainNo) ?? []
        list.push({ height: heightOfBlockKey(key), block: new Block(value.slice()) })
        blocksByNo.set(chainNo, list)
        break
      }
      case NS.chainNo:
        if (key.length !== 9 || value.length !== SIG_BYTES) problems.push('malformed chain number')
        else chainIds.set(readChainNo(key), toHex(value))
        break
      case NS.chain:
        chains.set(toHex(rest), decodeChain(rest.slice(), value))
        break
      case NS.owned:
      case NS.authored:
        if (key.length !== 1 + AUTHOR_BYTES + 8) problems.push('malformed tag key')
        else tags.push([key.slice(), value.slice()])
        break
      case NS.meta:
        if (bytesEqual(key, LAYOUT_KEY)) layout = value.slice()
        if (bytesEqual(key, SEQ_KEY)) seq = decodeU64(value)
        if (bytesEqual(key, INDEX_KEY)) indexVersion = value.slice()
        break
      case NS.trie:
        trie.set(toHex(rest.subarray(1)).slice(0, rest[0]!), value.slice())
        break
      case NS.registry:
        break
      case NS.partial:
        partials.push(rest.slice())
        break
      default:
        problems.push(`unknown namespace ${key[0]}`)
    }
  }
  /** Chain ids by chain number, from the chain records. */
  const idsByNo = new Map<number, string>()
  for (const [chainId, chain] of chains) idsByNo.set(chain.chainNo, chainId)
  for (const [chainNo, list] of blocksByNo) {
    const chainId = idsByNo.get(chainNo)
    if (chainId === undefined) problems.push(`blocks of unknown chain number ${chainNo}`)
    else blocks.set(chainId, list)
  }
  for (const [chainNo, chainId] of chainIds) {
    if (chains.get(chainId)?.chainNo !== chainNo) problems.push(`stale chain number ${chainNo}`)
  }
  // A genesis has no placement record: it was written at its chain's number.
  let maxSeq = Math.max(-1, ...[...chains.values()].map((c) => c.chainNo))
  for (const [id, p] of placements) {
    maxSeq = Math.max(maxSeq, p.seq)
    const found = blocksByNo.get(p.chainNo)?.find((b) => b.height === p.height)
    if (!found || toHex(found.block.sig) !== id) problems.push(`placement ${id} points nowhere`)
    if (found?.block.genesis) problems.push(`genesis ${id} has a placement record`)
  }
  if (chains.size > 0 && (seq === undefined || seq <= maxSeq)) {
    problems.push('write sequence counter is behind')
  }
  for (const [chainId, list] of blocks) {
    const chain = chains.get(chainId)
    if (!chain) {
      problems.push(`blocks of unknown chain ${chainId}`)
      continue
    }
    list.sort((a, b) => a.height - b.height)
    const first = list[0]!
    const last = list[list.length - 1]!
    if (first.height !== chain.firstHeight || !bytesEqual(first.block.sig, chain.firstId)) {
      problems.push(`chain ${chainId} first block mismatch`)
    }
    if (last.height !== chain.headHeight || !bytesEqual(last.block.sig, chain.headId)) {
      problems.push(`chain ${chainId} head mismatch`)
    }
    if (chain.firstHeight === 1 && chain.heightKnown) {
      if (!first.block.genesis || toHex(first.block.sig) !== chainId) {
        problems.push(`chain ${chainId} does not start at its genesis`)
      }
    }
    for (let i = 1; i < list.length; i++) {
      const { height, block } = list[i]!
      const prev = list[i - 1]!
      if (height !== prev.height + 1) problems.push(`chain ${chainId} has a gap at ${height}`)
      if (block.genesis || !bytesEqual(block.psig, prev.block.sig)) {
        problems.push(`chain ${chainId} breaks at ${height}`)
      }
    }
    for (const { height, block } of list) {
      if (block.genesis) continue // checked above: no placement record
      const p = placements.get(toHex(block.sig))
      if (!p || p.chainNo !== chain.chainNo || p.height !== height) {
        problems.push(`block at ${chainId}/${height} has no placement`)
      }
    }
    // A placement names the chain's number: then `0x09` resolves it.
    if (list.some((b) => !b.block.genesis) && chainIds.get(chain.chainNo) !== chainId) {
      problems.push(`chain ${chainId} has no number`)
    }
  }
  for (const [chainId, chain] of chains) {
    if (!blocks.has(chainId)) problems.push(`chain ${chainId} holds no blocks`)
    const owner = tags.find(
      ([key]) =>
        key[0] === NS.owned &&
        chainNoOfTagKey(key) === chain.chainNo &&
        bytesEqual(key.subarray(1, 1 + AUTHOR_BYTES), chain.author),
    )
    if (!owner) problems.push(`chain ${chainId} has no owner tag`)
  }
  for (const [key, value] of tags) {
    const author = key.subarray(1, 1 + AUTHOR_BYTES)
    const chainNo = chainNoOfTagKey(key)
    const chainId = idsByNo.get(chainNo)
    const chain = chainId === undefined ? undefined : chains.get(chainId)
    if (!chain) {
      problems.push('tag of a missing chain')
      continue
    }
    if ((key[0] === NS.owned) !== bytesEqual(author, chain.author)) {
      problems.push(`tag ${toHex(author)}/${chainId} in the wrong namespace`)
    }
    const entry = decodeAuthored(chainNo, value)
    const mine = (blocks.get(chainId!) ?? []).filter((b) => bytesEqual(b.block.key!, author))
    const newest = mine[mine.length - 1]
    const placed = newest?.block.genesis
      ? chain.chainNo
      : newest && placements.get(toHex(newest.block.sig))?.seq
    if (
      newest
        ? entry?.height !== newest.height || entry.seq !== placed
        : entry !== undefined || key[0] !== NS.owned
    ) {
      problems.push(`tag ${toHex(author)}/${chainId} is stale`)
    }
  }
  for (const [chainId, list] of blocks) {
    const chainNo = chains.get(chainId)?.chainNo
    const authors = new Set(list.map((b) => toHex(b.block.key!)))
    for (const author of authors) {
      const has = tags.some(
        ([key]) =>
          toHex(key.subarray(1, 1 + AUTHOR_BYTES)) === author && chainNoOfTagKey(key) === chainNo,
      )
      if (!has) problems.push(`author ${author} lacks a tag in ${chainId}`)
    }
  }
  if (seq !== undefined && (layout?.length !== 1 || layout[0] !== LAYOUT_VERSION)) {
    problems.push('the layout key is missing')
  }
  for (const id of partials) {
    if (!placements.has(toHex(id))) problems.push(`partial start ${toHex(id)} is not held`)
  }
  problems.push(...trieProblems(chains, trie, indexVersion))
  return problems
}

/** The stored trie nodes (0x0a keys), by their prefix as hex nibbles. */
export async function storedTrie(db: Db): Promise<Map<string, Uint8Array>> {
  const trie = new Map<string, Uint8Array>()
  for await (const [key, value] of db.iterator({
    gte: Uint8Array.of(0x0a),
    lt: Uint8Array.of(0x0b),
    keyEncoding: 'view',
    valueEncoding: 'view',
  })) {
    trie.set(toHex(key.subarray(2)).slice(0, key[1]!), value)
  }
  return trie
}

/** Differences between the stored trie nodes and the reference trie of the chain records. */
export function trieProblems(
  chains: Map<string, ChainRecord>,
  trie: Map<string, Uint8Array>,
  indexVersion: Uint8Array | undefined,
): string[] {
  const problems: string[] = []
  if (chains.size > 0 && indexVersion?.[0] !== 1) {
    problems.push('the index version key is missing')
  }
  const items: RefItem[] = []
  for (const chain of chains.values()) {
    const item = refItem({ ...chain, height: chain.headHeight, proven: !chain.claimed })
    if (item) items.push(item)
  }
  const nodes = refNodes(items)
  if (indexVersion && indexVersion.length > 1) {
    problems.push(...savedTopProblems(nodes, indexVersion.subarray(1)))
  }
  // The nodes above the stored depth live in memory only.
  const expected = new Map([...nodes].filter(([prefix]) => prefix.length >= TRIE_STORED_DEPTH))
  for (const [prefix, value] of trie) {
    const want = expected.get(prefix)
    if (!want) {
      problems.push(`trie node ${prefix || '(root)'} should not exist`)
      continue
    }
    let node: TrieNode
    try {
      node = TrieNode.decode(value)
    } catch {
      problems.push(`trie node ${prefix || '(root)'} does not decode`)
      continue
    }
    for (let c = 0; c < 16; c++) {
      const got = node.child(c)
      if (got.count !== want[c]!.count || !bytesEqual(got.fingerprint, want[c]!.fingerprint)) {
        problems.push(`trie node ${prefix || '(root)'} child ${c} is stale`)
      }
      const head = node.heads[c]
      if ((head && toHex(head)) !== want[c]!.head) {
        problems.push(`trie node ${prefix || '(root)'} child ${c} has a wrong id head`)
      }
    }
  }
  for (const prefix of expected.keys()) {
    if (!trie.has(prefix)) problems.push(`trie node ${prefix || '(root)'} is missing`)
  }
  return problems
}

/**
 * Differences between a saved top (the version key after its version byte: id head 16 B and
 * digest 32 B per one-item child of a node above the stored depth) and the reference.
 */
function savedTopProblems(nodes: Map<string, RefRange[]>, saved: Uint8Array): string[] {
  const want: string[] = []
  for (const [prefix, children] of nodes) {
    if (prefix.length >= TRIE_STORED_DEPTH) continue
    for (const child of children) {
      if (child.count === 1) want.push(`${child.head} ${toHex(child.fingerprint)}`)
    }
  }
  const got: string[] = []
  for (let at = 0; at + 48 <= saved.length; at += 48) {
    got.push(`${toHex(saved.subarray(at, at + 16))} ${toHex(saved.subarray(at + 16, at + 48))}`)
  }
  if (saved.length % 48 !== 0) return ['the saved trie top is malformed']
  return want.sort().join() === got.join() ? [] : ['the saved trie top is stale']
}

/** The chain number in a `0x09` key. */
function readChainNo(key: Uint8Array): number {
  let n = 0
  for (let i = 1; i < 9; i++) n = n * 256 + key[i]!
  return n
}
