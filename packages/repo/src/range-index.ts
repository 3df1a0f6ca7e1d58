/**
 * The reconciliation index: a canonical compressed 16-ary Merkle trie over the repo's items
 * (proven chains keyed by chain id), stored as one node per prefix that holds 2 or more
 * items (README.md, "Reconciliation index"). The repo calls {@link RangeIndex.stage} with
 * the item changes of each batch it writes; the node writes go into that same batch.
 */
import { type LevelDatabase, writeBatch } from './database.ts'
import { RepoError } from './errors.ts'
import { EMPTY_FINGERPRINT, FANOUT } from './fingerprint.ts'
import {
  chainRange,
  MAX_DEPTH,
  metaKey,
  NS,
  nibblesOf,
  plain,
  prefixEnd,
  TRIE_STORED_DEPTH,
  trieKey,
} from './layout.ts'
import { buildTrie } from './trie-build.ts'
import { type RangeFingerprint, TrieNode } from './trie-node.ts'
import { nodeId, TriePath } from './trie-path.ts'
import { itemOf, Staged } from './trie-stage.ts'
import { loadTop, TopNodes } from './trie-top.ts'
import type { ItemChange, Op } from './write-set.ts'

const VIEW = { keyEncoding: 'view', valueEncoding: 'view' } as const
/**
 * Meta key of the index format version (a u8), then, after a clean close, the saved top
 * ({@link TopNodes.savedTop}; absent after any later write). Absent or another version:
 * built at open.
 */
export const INDEX_KEY = metaKey('index')
/** The format version this code writes. */
export const INDEX_VERSION = 1

function corrupt(message: string): RepoError {
  return new RepoError('REPO_CORRUPT', message)
}

function invalid(message: string): RepoError {
  return new RepoError('REPO_INVALID_INPUT', message)
}

/**
 * `value` checked as a prefix of nibble values (each 0..15), at most `maxDepth` long.
 * @throws REPO_INVALID_INPUT otherwise
 */
export function nibblePrefix(value: unknown, maxDepth: number, what = 'prefix'): Uint8Array {
  if (!(value instanceof Uint8Array)) throw invalid(`${what} must be a Uint8Array of nibbles`)
  if (value.length > maxDepth) throw invalid(`${what} is deeper than ${maxDepth} nibbles`)
  for (const n of value) if (n > 15) throw invalid(`${what} holds a value above 15`)
  return value
}

/** The reconciliation index of one repo (nodes on disk, the top levels cached). */
export class RangeIndex {
  readonly #db: LevelDatabase
  readonly #read: (keys: Uint8Array[]) => Promise<(Uint8Array | undefined)[]>
  /**
   * The committed nodes down to depth {@link TRIE_STORED_DEPTH} by key: those above it live
   * here only, those at it are also stored (at most 273 + 4,096 nodes, ~3 MB at a million
   * items), so a write reads nodes from the database only below depth 3.
   */
  #memory = new TopNodes()
  #ready: Promise<void> | undefined
  #built = false
  /** The version key is still to be written (an empty repo: nothing to build). */
  #versionPending = false
  /**
   * The version key holds a saved top that matches the committed index (read at open, or
   * written by {@link RangeIndex.saveTop}): the next batch that stages changes drops it.
   */
  #topSaved = false

  /**
   * @param read - reads node keys as one `getMany` would (the repo's context passes its
   *   own, which reads a few keys on this thread)
   */
  constructor(
    db: LevelDatabase,
    read: (keys: Uint8Array[]) => Promise<(Uint8Array | undefined)[]> = (keys) =>
      db.getMany(keys, VIEW),
  ) {
    this.#db = db
    this.#read = read
  }

  /** True once {@link RangeIndex.ensure} has succeeded. */
  get ready(): boolean {
    return this.#built
  }

  /**
   * Makes sure the stored index matches the chain records: a database without the version
   * key (written before the index existed, or by another format) gets it built now, once.
   * Call with the repo's write lock held.
   */
  ensure(): Promise<void> {
    this.#ready ??= this.#open().then(
      () => {
        this.#built = true
      },
      (err: unknown) => {
        this.#ready = undefined
        throw err
      },
    )
    return this.#ready
  }

  async #open(): Promise<void> {
    const version = await this.#db.get(INDEX_KEY, VIEW)
    const current = version?.[0] === INDEX_VERSION
    if (!current) await this.#build(version)
    // After the version byte, the top saved at the last close (another version's: rebuilt).
    const saved = current && version.length > 1 ? plain(version).subarray(1) : undefined
    this.#memory = await loadTop(this.#db, (prefix) => this.#soleItem(prefix), saved)
    this.#topSaved = saved !== undefined
  }

  /**
   * Saves what the next open needs to derive the top without a pass over the chain records
   * (the items of its one-item ranges: 48 B each, at most 4,096) in the version key, where
   * the next batch that stages changes drops it again. The repo calls it on close, with no
   * write in flight; nothing is saved for an index not loaded since the open, one whose
   * saved top is still current, or one of at most one item.
   * @throws the database's error when the write fails (the index stays as it was)
   */
  async saveTop(): Promise<void> {
    if (!this.#built || this.#topSaved) return
    const saved = this.#memory.savedTop()
    if (!saved) return
    const value = new Uint8Array(1 + saved.length)
    value[0] = INDEX_VERSION
    value.set(saved, 1)
    await writeBatch(this.#db, [{ type: 'put', key: INDEX_KEY, value }])
    this.#topSaved = true
  }

  /** Builds the stored nodes from the chain records (nothing to build in an empty repo). */
  async #build(version: Uint8Array | undefined): Promise<void> {
    const chains = Uint8Array.of(NS.chain)
    let any = false
    for await (const _ of this.#db.keys({
      gte: chains,
      lt: prefixEnd(chains),
      limit: 1,
      ...VIEW,
    })) {
      any = true
    }
    if (!any && version === undefined) {
      this.#versionPending = true
      return
    }
    await buildTrie(this.#db)
    await writeBatch(this.#db, [
      { type: 'put', key: INDEX_KEY, value: Uint8Array.of(INDEX_VERSION) },
    ])
  }

  /**
   * The node at `key` as committed (down to the stored depth, from memory), its children's
   * fingerprints possibly out of date ({@link TrieNode.stale}).
   */
  async #readNode(prefix: Uint8Array): Promise<TrieNode | null> {
    if (prefix.length <= TRIE_STORED_DEPTH)
      return this.#memory.get(nodeId(prefix, prefix.length)) ?? null
    const value = await this.#db.get(trieKey(prefix), VIEW)
    return value === undefined ? null : TrieNode.decode(plain(value))
  }

  /** The committed node of `prefix` with every child fingerprint up to date. */
  async #freshNode(prefix: Uint8Array): Promise<TrieNode | null> {
    const node = await this.#readNode(prefix)
    if (node) this.#refresh(node, prefix)
    return node
  }

  /** Computes the out-of-date child fingerprints of in-memory `node` (of `prefix`). */
  #refresh(node: TrieNode, prefix: Uint8Array): void {
    for (let c = 0; c < FANOUT; c++) {
      if (!(node.stale & (1 << c))) continue
      const childPrefix = new Uint8Array(prefix.length + 1)
      childPrefix.set(prefix)
      childPrefix[prefix.length] = c
      const child = this.#memory.get(nodeId(childPrefix, childPrefix.length))
      if (!child) throw corrupt('an in-memory trie node lacks a child node')
      this.#refresh(child, childPrefix)
      node.set(c, node.counts[c]!, child.fingerprint())
    }
  }

  /**
   * The one item (or none) under `prefix`, a range holding at most one: read from the
   * chain records (claimed chains in the range are passed over).
   */
  async #soleItem(prefix: Uint8Array): Promise<{ id: Uint8Array; digest: Uint8Array } | undefined> {
    const [gte, lt] = chainRange(prefix)
    let found: { id: Uint8Array; digest: Uint8Array } | undefined
    for await (const [key, value] of this.#db.iterator({ gte, lt, ...VIEW })) {
      const item = itemOf(key, value)
      if (!item) continue
      if (found) throw corrupt('a range of several items has no trie node')
      found = item
    }
    return found
  }

  /**
   * count + fingerprint of the items under `prefix` (nibbles, depth 0..128): one node read,
   * or for a range of at most one item, a read of its chain records.
   */
  async fingerprint(prefix: Uint8Array): Promise<RangeFingerprint> {
    const depth = prefix.length
    if (depth > 0) {
      const parent = await this.#freshNode(prefix.subarray(0, depth - 1))
      if (parent) return parent.child(prefix[depth - 1]!)
    } else {
      const root = await this.#freshNode(prefix)
      if (root) return { count: root.count, fingerprint: root.fingerprint() }
    }
    const item = await this.#soleItem(prefix)
    return item
      ? { count: 1, fingerprint: item.digest }
      : { count: 0, fingerprint: EMPTY_FINGERPRINT.slice() }
  }

  /** The 16 children of `prefix` (nibbles, depth 0..127), in nibble order. */
  async children(prefix: Uint8Array): Promise<RangeFingerprint[]> {
    const node = await this.#freshNode(prefix)
    if (node) return Array.from({ length: FANOUT }, (_, c) => node.child(c))
    const out: RangeFingerprint[] = Array.from({ length: FANOUT }, () => ({
      count: 0,
      fingerprint: EMPTY_FINGERPRINT.slice(),
    }))
    const item = await this.#soleItem(prefix)
    if (item) out[nibblesOf(item.id)[prefix.length]!] = { count: 1, fingerprint: item.digest }
    return out
  }

  /**
   * Adds to `ops` the node writes that apply `changes` to the stored index (O(depth) node
   * reads and writes per change). Call with the write lock held, then write `ops` in one
   * batch and call the returned function once it is written (it updates the cache).
   * @throws REPO_CORRUPT when the stored index contradicts the changes
   */
  async stage(changes: readonly ItemChange[], ops: Op[]): Promise<() => void> {
    const staged = new Staged(this.#db, this.#read, (id) => this.#memory.copy(id) ?? null)
    // One path per change: prefetch and apply walk the same node keys. The nibbles of all
    // of them share one allocation (128 B each would be one outside V8's young heap).
    const nibbles = new Uint8Array(changes.length * MAX_DEPTH)
    const paths = changes.map(({ chainId }, i) => {
      const at = i * MAX_DEPTH
      return new TriePath(nibblesOf(chainId, nibbles.subarray(at, at + MAX_DEPTH)))
    })
    if (changes.length > 1) await staged.prefetch(changes, paths)
    for (let i = 0; i < changes.length; i++) await staged.apply(changes[i]!, paths[i]!)
    const slots = staged.dirty()
    for (const { path, depth, node } of slots) {
      if (depth < TRIE_STORED_DEPTH) continue
      const key = path.key(depth)
      ops.push(node ? { type: 'put', key, value: node.encode() } : { type: 'del', key })
    }
    // The version alone, where it is missing or holds a saved top that these changes outdate.
    const writesVersion = this.#versionPending || (this.#topSaved && slots.length > 0)
    if (writesVersion)
      ops.push({ type: 'put', key: INDEX_KEY, value: Uint8Array.of(INDEX_VERSION) })
    return () => {
      if (writesVersion) {
        this.#versionPending = false
        this.#topSaved = false
      }
      for (const { id, depth, node } of slots) {
        if (depth > TRIE_STORED_DEPTH) continue
        if (node) this.#memory.set(id, node)
        else this.#memory.delete(id)
      }
    }
  }
}
