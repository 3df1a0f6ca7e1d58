/**
 * A from-scratch reference of the reconciliation index, written from its definition
 * (README.md, "Reconciliation index"; the sync contract) and sharing no code with src/:
 * items are proven chains, digest = SHA-256(0x00 | chain id | head id | u32be(height)),
 * fingerprint(p) = zeros (no item), the digest (one), or SHA-256(0x01 | 16 child
 * fingerprints). No Node imports (the conformance suite runs in browsers too).
 */
import { sha256 } from '@noble/hashes/sha2.js'

/** One item: its chain id as nibbles and its digest. */
export interface RefItem {
  nibbles: number[]
  digest: Uint8Array
}

/** A range's count and fingerprint (and for one item, its chain id's first 32 nibbles). */
export interface RefRange {
  count: number
  fingerprint: Uint8Array
  head?: string
}

/** The item of a chain summary (or `undefined` when it is not proven). */
export function refItem(summary: {
  chainId: Uint8Array
  headId: Uint8Array
  height: number
  proven: boolean
}): RefItem | undefined {
  if (!summary.proven) return undefined
  const input = new Uint8Array(133)
  input[0] = 0
  input.set(summary.chainId, 1)
  input.set(summary.headId, 65)
  new DataView(input.buffer).setUint32(129, summary.height)
  const nibbles = [...summary.chainId].flatMap((b) => [b >> 4, b & 15])
  return { nibbles, digest: sha256(input) }
}

/** Per item set: the items and range of every prefix asked so far (by nibbles, comma-joined). */
const memos = new WeakMap<RefItem[], Map<string, { inside: RefItem[]; range?: RefRange }>>()

/** The items of `items` under `prefix` (from the parent prefix's, memoized). */
function under(
  items: RefItem[],
  prefix: readonly number[],
): { inside: RefItem[]; range?: RefRange } {
  let memo = memos.get(items)
  if (!memo) memos.set(items, (memo = new Map([['', { inside: items }]])))
  const key = prefix.join(',')
  let found = memo.get(key)
  if (!found) {
    const depth = prefix.length - 1
    const parent = under(items, prefix.slice(0, depth)).inside
    found = { inside: parent.filter((item) => item.nibbles[depth] === prefix[depth]) }
    memo.set(key, found)
  }
  return found
}

/** count + fingerprint of the items under `prefix`, by the definition. */
export function refRange(items: RefItem[], prefix: readonly number[]): RefRange {
  const entry = under(items, prefix)
  if (entry.range) return entry.range
  const { inside } = entry
  if (inside.length === 0) entry.range = { count: 0, fingerprint: new Uint8Array(32) }
  else if (inside.length === 1) {
    const { digest, nibbles } = inside[0]!
    entry.range = {
      count: 1,
      fingerprint: digest,
      head: nibbles
        .slice(0, 32)
        .map((n) => n.toString(16))
        .join(''),
    }
  } else {
    const input = new Uint8Array(1 + 16 * 32)
    input[0] = 1
    for (let c = 0; c < 16; c++) {
      input.set(refRange(items, [...prefix, c]).fingerprint, 1 + 32 * c)
    }
    entry.range = { count: inside.length, fingerprint: sha256(input) }
  }
  return entry.range
}

/** The 16 children of `prefix`. */
export function refChildren(items: RefItem[], prefix: readonly number[]): RefRange[] {
  return Array.from({ length: 16 }, (_, c) => refRange(items, [...prefix, c]))
}

/**
 * Every prefix that holds 2 or more items (those the repo stores a node for), with its
 * children, keyed by the prefix's nibbles in hex (`''` for the root).
 */
export function refNodes(items: RefItem[]): Map<string, RefRange[]> {
  const out = new Map<string, RefRange[]>()
  const visit = (prefix: number[]) => {
    if (refRange(items, prefix).count < 2) return
    out.set(prefix.map((n) => n.toString(16)).join(''), refChildren(items, prefix))
    for (let c = 0; c < 16; c++) visit([...prefix, c])
  }
  visit([])
  return out
}
