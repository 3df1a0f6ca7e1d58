/**
 * The node changes of one batch of item changes, staged over the committed reconciliation
 * index (`RangeIndex.stage` writes them): the stored nodes the batch's paths pass are
 * read first, then each change is applied to this batch's view of the nodes.
 */
import { bytesEqual } from '@picostack/feed'
import type { LevelDatabase } from './database.ts'
import { RepoError } from './errors.ts'
import { EMPTY_FINGERPRINT, itemDigest } from './fingerprint.ts'
import { chainRange, MAX_DEPTH, nibblesOf, plain, TRIE_STORED_DEPTH } from './layout.ts'
import { decodeChain } from './records.ts'
import { TrieNode } from './trie-node.ts'
import type { NodeId, TriePath } from './trie-path.ts'
import { type ItemChange, mapKey } from './write-set.ts'

const VIEW = { keyEncoding: 'view', valueEncoding: 'view' } as const
/** Node depths read in one `getMany` below the cached levels. */
const READ_AHEAD = 4
/** Fewest node keys in one `getMany` of a batch's reads split into parts, and most parts. */
const READ_PART = 256
const READ_PARTS = 4

function corrupt(message: string): RepoError {
  return new RepoError('REPO_CORRUPT', message)
}

/** A proven chain's id and item digest, read from its chain record (or `undefined`). */
export function itemOf(
  key: Uint8Array,
  value: Uint8Array,
): { id: Uint8Array; digest: Uint8Array } | undefined {
  const chain = decodeChain(plain(key).slice(1), plain(value))
  if (chain.claimed) return undefined
  return { id: chain.chainId, digest: itemDigest(chain.chainId, chain.headId, chain.headHeight) }
}

function startsWith(nibbles: Uint8Array, prefix: Uint8Array): boolean {
  for (let i = 0; i < prefix.length; i++) if (nibbles[i] !== prefix[i]) return false
  return true
}

/** The one item (digest and id head) under a node of count 1. */
function soleChild(node: TrieNode): { fingerprint: Uint8Array; head: Uint8Array } {
  const c = node.counts.indexOf(1)
  return { fingerprint: node.childFingerprint(c).slice(), head: node.head(c)! }
}

/**
 * Sets child `c` of `parent` (a node of `depth`) to `child`, a node of 2 or more items: in a
 * node kept in memory only, its fingerprint is left to be computed when read.
 */
function link(parent: TrieNode, depth: number, c: number, child: TrieNode): void {
  if (depth < TRIE_STORED_DEPTH) parent.setStale(c, child.count)
  else parent.set(c, child.count, child.fingerprint())
}

/** An item in a trie slot: its id's nibbles (at least up to where it leaves another's). */
interface SlotItem {
  nibbles: Uint8Array
  digest: Uint8Array
  /** Its chain id, or at least the first {@link ID_HEAD_BYTES} of it. */
  head: Uint8Array
}

/** One node slot of a staged batch: its id, on `path` at `depth`, and state (`null`: no node). */
interface Slot {
  id: NodeId
  path: TriePath
  depth: number
  node: TrieNode | null
  dirty: boolean
}

/** The node changes of one batch being staged, over the committed index. */
export class Staged {
  readonly #db: LevelDatabase
  /** Reads node keys as one `getMany` (the repo context's: a few keys on this thread). */
  readonly #read: (keys: Uint8Array[]) => Promise<(Uint8Array | undefined)[]>
  /** A copy of the committed node of id `id` of the in-memory top (`null`: none). */
  readonly #copyTop: (id: NodeId) => TrieNode | null
  readonly #slots = new Map<NodeId, Slot>()
  /** Items changed so far in this batch, by chain id: their digest now (`null`: removed). */
  readonly #applied = new Map<string, { id: Uint8Array; digest: Uint8Array | null }>()

  constructor(
    db: LevelDatabase,
    read: (keys: Uint8Array[]) => Promise<(Uint8Array | undefined)[]>,
    copyTop: (id: NodeId) => TrieNode | null,
  ) {
    this.#db = db
    this.#read = read
    this.#copyTop = copyTop
  }

  /** The slots changed by this batch. */
  dirty(): Slot[] {
    return [...this.#slots.values()].filter((slot) => slot.dirty)
  }

  /**
   * The node of the first `depth` nibbles of `path` in this batch's view, when known without
   * a read (a slot of this batch, or the in-memory top); `undefined` when it is to be read.
   */
  #nodeNow(path: TriePath, depth: number): TrieNode | null | undefined {
    const id = path.id(depth)
    const known = this.#slots.get(id)
    if (known) return known.node
    if (depth > TRIE_STORED_DEPTH) return undefined
    const node = this.#copyTop(id)
    this.#slots.set(id, { id, path, depth, node, dirty: false })
    return node
  }

  /** The node of the first `depth` nibbles of `path` in this batch's view. */
  async #node(path: TriePath, depth: number): Promise<TrieNode | null> {
    const now = this.#nodeNow(path, depth)
    if (now !== undefined) return now
    // Stored nodes: this depth and the next few in one read.
    const wanted: { path: TriePath; depth: number }[] = []
    for (let d = depth; d < Math.min(MAX_DEPTH, depth + READ_AHEAD); d++) {
      if (!this.#slots.has(path.id(d))) wanted.push({ path, depth: d })
    }
    await this.#load(wanted)
    return this.#slots.get(path.id(depth))!.node
  }

  /**
   * Reads the stored nodes the paths of `changes` pass, one `getMany` per depth (a node is
   * read only where its parent shows it is stored: a child of 2 or more items), so that
   * applying the changes one after another reads none of them again (a gc's batch of 1,000
   * removals at 100,000 chains made ~750 sequential reads there) and no absent key is asked
   * for (each such read can count towards a LevelDB seek compaction).
   */
  async prefetch(changes: readonly ItemChange[], paths: readonly TriePath[]): Promise<void> {
    let pending: { path: TriePath; depth: number }[] = []
    changes.forEach(({ was, digest }, i) => {
      if (was || digest) pending.push({ path: paths[i]!, depth: 0 })
    })
    while (pending.length > 0) {
      const reads: { path: TriePath; depth: number }[] = []
      const wanted = new Set<NodeId>()
      const next: typeof pending = []
      for (const walk of pending) {
        const { path } = walk
        while (walk.depth < MAX_DEPTH) {
          const id = path.id(walk.depth)
          const slot = this.#slots.get(id)
          if (!slot && walk.depth > TRIE_STORED_DEPTH) {
            if (!wanted.has(id)) reads.push({ path, depth: walk.depth })
            wanted.add(id)
            next.push(walk)
            break
          }
          // No slot yet, at most the stored depth: a copy of the in-memory top's node.
          const node = slot ? slot.node : (this.#nodeNow(path, walk.depth) ?? null)
          if (!node || node.counts[path.x[walk.depth]!]! < 2) break
          walk.depth++
        }
      }
      if (reads.length > 0) await this.#load(reads)
      pending = next
    }
  }

  /**
   * Reads the stored nodes of `reads` into the slots, as committed nodes: in parts of at
   * least `READ_PART` keys, one `getMany` each, side by side (each runs on a thread of
   * the database's pool), each part decoded as it comes.
   */
  async #load(reads: { path: TriePath; depth: number }[]): Promise<void> {
    const parts = Math.min(READ_PARTS, Math.max(1, Math.floor(reads.length / READ_PART)))
    const size = Math.ceil(reads.length / parts)
    const loads: Promise<void>[] = []
    for (let at = 0; at < reads.length; at += size) {
      const part = reads.slice(at, at + size)
      const keys = part.map(({ path, depth }) => path.key(depth))
      loads.push(
        this.#read(keys).then((values) => {
          part.forEach(({ path, depth }, i) => {
            const value = values[i]
            const node = value === undefined ? null : TrieNode.decode(plain(value))
            this.#slots.set(path.id(depth), { id: path.id(depth), path, depth, node, dirty: false })
          })
        }),
      )
    }
    await Promise.all(loads)
  }

  #put(path: TriePath, depth: number, node: TrieNode | null): void {
    const id = path.id(depth)
    this.#slots.set(id, { id, path, depth, node, dirty: true })
  }

  /** Applies one change (insert, update or removal of an item) whose id's path is `at`. */
  async apply(change: ItemChange, at: TriePath): Promise<void> {
    const { chainId, was, digest } = change
    if (!was && !digest) return
    const { x } = at
    // The stored nodes on x's path: the root down to the first whose x-child holds < 2 items.
    const path: TrieNode[] = []
    for (let d = 0; d < MAX_DEPTH; d++) {
      // Known without a read, mostly (the batch's prefetch read the stored nodes).
      let node = this.#nodeNow(at, d)
      if (node === undefined) node = await this.#node(at, d)
      if (!node) break
      path.push(node)
      if (node.counts[x[d]!]! < 2) break
    }
    const depth = path.length // x's slot: the range of its first `depth` nibbles
    const parent = path[depth - 1]
    const c = x[depth - 1]!
    const slotCount = parent ? parent.counts[c]! : undefined
    if (was) {
      if (slotCount !== undefined && slotCount !== 1) {
        throw corrupt('an item is missing from the trie')
      }
      if (parent && digest && bytesEqual(parent.childFingerprint(c), digest)) return
      if (parent) parent.set(c, digest ? 1 : 0, digest ?? EMPTY_FINGERPRINT, chainId)
    } else if (slotCount === 0) {
      parent!.set(c, 1, digest!, chainId)
    } else {
      // The slot holds one other item (or, with no root node, at most one): x and it go
      // into new nodes down to the first nibble where their ids differ.
      const other =
        (parent && this.#fromHead(parent, c, x, depth)) ??
        (await this.#otherItem(x.subarray(0, depth), chainId))
      if (!other) {
        if (parent) throw corrupt('a trie slot of one item has none')
      } else {
        const y = other.nibbles
        let split = depth
        while (x[split] === y[split]) split++
        let below = new TrieNode()
        below.set(x[split]!, 1, digest!, chainId)
        below.set(y[split]!, 1, other.digest, other.head)
        this.#put(at, split, below)
        for (let d = split - 1; d >= depth; d--) {
          const node = new TrieNode()
          link(node, d, x[d]!, below)
          this.#put(at, d, node)
          below = node
        }
        if (parent) link(parent, depth - 1, c, below)
      }
    }
    this.#applied.set(mapKey(chainId), { id: chainId, digest })
    this.#propagate(at, path)
  }

  /**
   * Recomputes the counts and fingerprints along `path` (root first) after its last node
   * changed, from the bottom up; a node left with fewer than 2 items goes, and its parent
   * holds its one item's digest instead.
   */
  #propagate(at: TriePath, path: TrieNode[]): void {
    const { x } = at
    for (let d = path.length - 1; d >= 0; d--) {
      const node = path[d]!
      const count = node.count
      this.#put(at, d, count < 2 ? null : node)
      if (d === 0) break
      if (count === 1) {
        const { fingerprint, head } = soleChild(node)
        path[d - 1]!.set(x[d - 1]!, 1, fingerprint, head)
      } else if (count === 0) {
        path[d - 1]!.set(x[d - 1]!, 0, EMPTY_FINGERPRINT)
      } else {
        link(path[d - 1]!, d - 1, x[d - 1]!, node)
      }
    }
  }

  /**
   * The item in child `c` of `parent` (of one item) from its id head, when that head shows
   * where its id leaves `x` (below `depth`); `undefined` when the ids share the whole head.
   */
  #fromHead(parent: TrieNode, c: number, x: Uint8Array, depth: number): SlotItem | undefined {
    const head = parent.head(c)!
    const nibbles = nibblesOf(head)
    for (let i = depth; i < nibbles.length; i++) {
      if (nibbles[i] !== x[i]) return { nibbles, digest: parent.childFingerprint(c).slice(), head }
    }
    return undefined
  }

  /**
   * The one item other than `chainId` under `prefix` in this batch's view (a range that
   * holds at most one other): the chain records as committed, with this batch's changes.
   */
  async #otherItem(prefix: Uint8Array, chainId: Uint8Array): Promise<SlotItem | undefined> {
    const self = mapKey(chainId)
    const found: { id: Uint8Array; digest: Uint8Array }[] = []
    for (const [key, { id, digest }] of this.#applied) {
      if (key !== self && digest && startsWith(nibblesOf(id), prefix)) found.push({ id, digest })
    }
    const [gte, lt] = chainRange(prefix)
    for await (const [key, value] of this.#db.iterator({ gte, lt, ...VIEW })) {
      const item = itemOf(key, value)
      if (!item || this.#applied.has(mapKey(item.id)) || bytesEqual(item.id, chainId)) continue
      found.push(item)
      if (found.length > 1) break
    }
    if (found.length > 1) throw corrupt('a trie slot of one item holds several')
    const item = found[0]
    return item && { nibbles: nibblesOf(item.id), digest: item.digest, head: item.id }
  }
}
