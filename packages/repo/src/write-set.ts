import { type Block, bytesEqual, SIG_BYTES } from '@picostack/feed'
import { RepoError } from './errors.ts'
import { itemDigest } from './fingerprint.ts'
import {
  authoredKey,
  BLOCK_KEY_BYTES,
  blockKey,
  CHAIN_KEY_BYTES,
  chainKey,
  chainNoKey,
  MAX_HEIGHT,
  metaKey,
  ownedKey,
  PLACEMENT_KEY_BYTES,
  partialKey,
  placementKey,
} from './layout.ts'
import {
  type AuthoredEntry,
  type ChainRecord,
  encodeAuthored,
  encodeChain,
  encodePlacement,
  encodeU64,
  type Placement,
  placementBytes,
} from './records.ts'

/** One database operation with byte keys and values. */
export type Op =
  | { type: 'put'; key: Uint8Array; value: Uint8Array }
  | { type: 'del'; key: Uint8Array }

/**
 * A change of one chain's item status or digest in one batch (the items of the
 * reconciliation index are the proven chains).
 */
export interface ItemChange {
  chainId: Uint8Array // 64 B
  /** Whether the chain is an item in the index as stored (before this batch). */
  was: boolean
  /** Its digest after this batch (32 B), or `null` when it is no item then. */
  digest: Uint8Array | null
}

/** Meta key of the repo-wide write sequence counter. */
export const SEQ_KEY = metaKey('seq')

/** A Map key for bytes (one char per byte). */
export function mapKey(bytes: Uint8Array): string {
  return String.fromCharCode.apply(null, bytes as unknown as number[])
}

/** Most keys of one hash bucket of {@link WriteSet.addRegistryOps}. */
const REGISTRY_BUCKET_KEYS = 4

/**
 * FNV-1a (32 bits) of `bytes`: cheaper than a string of them as a Map key (no string made
 * and hashed again); equal hashes are compared byte by byte.
 */
function keyHash(bytes: Uint8Array): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193)
  return hash >>> 0
}

/** The newest block of an author other than the chain's owner, pending in a write set. */
interface ForeignTag {
  author: Uint8Array // 32 B
  chain: ChainRecord
  entry: AuthoredEntry
}

/**
 * The changes of one locked write, not yet in the database: the operations, the chain
 * records and placements they create (so later blocks of the same write see them), and the
 * authored tags they move. {@link WriteSet.drain} turns it into one atomic batch.
 */
export class WriteSet {
  /** Operations so far, in order (a later op on the same key wins). */
  ops: Op[] = []
  /**
   * Blocks (not geneses) evicted since the last drain, by id ({@link mapKey}): their
   * placement records are on disk until the batch that deletes them, so a lookup must not
   * find them there (`RepoContext.placement`).
   */
  readonly evicted = new Set<string>()
  /**
   * Chain records read or changed during this write, by chain id; `null` marks a chain
   * removed, or known not to be stored.
   */
  readonly chains = new Map<string, ChainRecord | null>()
  /** The same records by chain number. */
  readonly chainsByNo = new Map<number, ChainRecord | null>()
  /** Next write sequence number. */
  seq: number
  /** Blocks appended since this write set was made. */
  appended = 0
  /**
   * Blocks appended before the last batch the repo wrote from this set (set by the repo
   * once that batch is written); `undefined` while no batch of it was written.
   */
  committed: number | undefined
  /** The chain of the block appended last (kept across drains; cleared when it is dropped). */
  tip: ChainRecord | undefined
  /** Ids and placements of blocks added since the last drain, in order. */
  #pendingIds: Uint8Array[] = []
  #pending: Placement[] = []
  /** `#pending` by id, built only when a lookup needs it (fast-forwards never do). */
  #pendingIndex = new Map<string, Placement>()
  #indexed = 0
  #dirtyChains = new Set<ChainRecord>()
  /** Chains started since the last drain (their record keys are new to the database). */
  #startedChains = new Set<ChainRecord>()
  /** Chains removed since the last drain. */
  #droppedChains: ChainRecord[] = []
  /** Whether each chain of this write is an item as last written (kept across drains). */
  readonly #wasItem = new Map<ChainRecord, boolean>()
  /** Owners' newest blocks, per chain (the common case: no string keys per block). */
  #ownerTags = new Map<ChainRecord, AuthoredEntry>()
  #foreignTags = new Map<string, ForeignTag>()
  #seqChanged = false
  /** Indexes in `ops` of the registry ops added by {@link WriteSet.addRegistryOps}, by {@link keyHash}. */
  #registrySlots = new Map<number, number[]>()

  constructor(seq: number) {
    this.seq = seq
  }

  /** True when nothing is waiting to be written. */
  get empty(): boolean {
    return this.ops.length === 0 && this.#dirtyChains.size === 0
  }

  /** Remembers `chain` (read from the database or created) for the rest of this write. */
  cacheChain(chain: ChainRecord): void {
    if (!this.#wasItem.has(chain)) this.#wasItem.set(chain, !chain.claimed)
    this.chains.set(mapKey(chain.chainId), chain)
    this.chainsByNo.set(chain.chainNo, chain)
  }

  /** Remembers that no chain `chainId` (64 B) is stored, for the rest of this write. */
  cacheNoChain(chainId: Uint8Array): void {
    this.chains.set(mapKey(chainId), null)
  }

  /** The placement of block `id` if it was added since the last drain. */
  placement(id: Uint8Array): Placement | undefined {
    const pending = this.#pending
    if (pending.length === 0) return undefined
    for (; this.#indexed < pending.length; this.#indexed++) {
      this.#pendingIndex.set(mapKey(this.#pendingIds[this.#indexed]!), pending[this.#indexed]!)
    }
    return this.#pendingIndex.get(mapKey(id))
  }

  /**
   * Starts chain `chainId` owned by `block`'s author, with `block` at `height`. A block that
   * is not a genesis starts a partial chain and is recorded as such.
   */
  startChain(block: Block, chainId: Uint8Array, height: number, heightKnown: boolean): void {
    const chain: ChainRecord = {
      chainId: chainId.slice(),
      author: block.key!.slice(),
      headId: block.sig,
      headHeight: height - 1,
      firstId: block.sig.slice(),
      firstHeight: height,
      chainNo: this.seq,
      heightKnown,
      claimed: !block.genesis,
    }
    this.#wasItem.set(chain, false)
    this.#startedChains.add(chain)
    this.cacheChain(chain)
    // The owned key (0x04) is the owner's tag: drain writes it, as every tag. A partial
    // chain's number is named by its first block's placement at once (a genesis has none).
    if (!block.genesis) {
      this.ops.push(
        { type: 'put', key: chainNoKey(chain.chainNo), value: chain.chainId },
        { type: 'put', key: partialKey(block.sig), value: chain.chainId },
      )
    }
    this.append(chain, block)
  }

  /**
   * Puts `block` on top of `chain` (its placement, its bytes, the chain's head and the
   * author's tag). Keeps nothing of the caller's bytes: the block is copied first, and its
   * id is read from the copy. `byOwner`: whether the chain's owner wrote it.
   * @throws REPO_INVALID_INPUT when the chain would pass {@link MAX_HEIGHT}
   */
  append(chain: ChainRecord, block: Block, byOwner = bytesEqual(block.key!, chain.author)): void {
    const height = chain.headHeight + 1
    if (height > MAX_HEIGHT) throw new RepoError('REPO_INVALID_INPUT', 'chain is too long')
    const placement: Placement = { chainNo: chain.chainNo, height, seq: this.seq++ }
    this.#seqChanged = true
    // One allocation holds the block's bytes and both its index entries. They are written
    // and deleted together, so a store that keeps them by reference (memory-level) pins
    // nothing beyond the block's lifetime.
    const size = block.blockSize
    const valueAt = size + PLACEMENT_KEY_BYTES
    const blockKeyAt = valueAt + placementBytes(placement)
    const bytes = new Uint8Array(blockKeyAt + BLOCK_KEY_BYTES)
    bytes.set(block.buffer)
    const id = bytes.subarray(0, SIG_BYTES)
    // A genesis (always its chain's first block, at height 1) has no placement record: its
    // chain record stands for it (see `genesisPlacement`). Its chain number is named by
    // nothing else until the chain's second block.
    if (!block.genesis) {
      this.ops.push({
        type: 'put',
        key: placementKey(id, bytes.subarray(size, valueAt)),
        value: encodePlacement(placement, bytes.subarray(valueAt, blockKeyAt)),
      })
      if (height === 2 && !chain.claimed) {
        this.ops.push({ type: 'put', key: chainNoKey(chain.chainNo), value: chain.chainId })
      }
    }
    this.ops.push({
      type: 'put',
      key: blockKey(chain.chainNo, height, bytes.subarray(blockKeyAt)),
      value: bytes.subarray(0, size),
    })
    this.#pendingIds.push(id)
    this.#pending.push(placement)
    this.appended++
    chain.headHeight = height
    chain.headId = id
    this.#dirtyChains.add(chain)
    this.tip = chain
    const entry: AuthoredEntry = { seq: placement.seq, height }
    if (byOwner) {
      this.#ownerTags.set(chain, entry)
    } else {
      const author = block.key!.slice()
      this.#foreignTags.set(mapKey(author) + mapKey(chain.chainId), { author, chain, entry })
    }
  }

  /**
   * Adds registry ops; an op on a key that an earlier op of this batch already wrote takes
   * that op's place (the batch is atomic, so only the last value of a key matters: a slice
   * value rewritten by every block of a run costs one write, not one per block). Keys are
   * found by a 32-bit hash of their bytes, then compared whole; a hash bucket holds at most
   * {@link REGISTRY_BUCKET_KEYS} keys, and an op whose key finds its bucket full is only
   * appended (it is later in the batch than any op of its key, so it still wins): keys a
   * peer's ids make collide cost a bounded number of compares, never a quadratic scan.
   */
  addRegistryOps(ops: readonly Op[]): void {
    for (const op of ops) {
      const hash = keyHash(op.key)
      const bucket = this.#registrySlots.get(hash)
      let slot = -1
      if (bucket !== undefined) {
        for (const at of bucket) {
          if (bytesEqual(this.ops[at]!.key, op.key)) {
            slot = at
            break
          }
        }
      }
      if (slot >= 0) {
        this.ops[slot] = op
        continue
      }
      if (bucket === undefined) this.#registrySlots.set(hash, [this.ops.length])
      else if (bucket.length < REGISTRY_BUCKET_KEYS) bucket.push(this.ops.length)
      this.ops.push(op)
    }
  }

  /** Schedules `chain`'s record to be written with its current fields. */
  markChain(chain: ChainRecord): void {
    this.cacheChain(chain)
    this.#dirtyChains.add(chain)
  }

  /** Removes `chain`'s record, its owned key (the owner's tag) and its number. */
  dropChain(chain: ChainRecord): void {
    this.chains.set(mapKey(chain.chainId), null)
    this.chainsByNo.set(chain.chainNo, null)
    this.#dirtyChains.delete(chain)
    this.#droppedChains.push(chain)
    this.#ownerTags.delete(chain)
    for (const [key, tag] of this.#foreignTags) {
      if (tag.chain === chain) this.#foreignTags.delete(key)
    }
    if (this.tip === chain) this.tip = undefined
    this.ops.push(
      { type: 'del', key: chainKey(chain.chainId) },
      { type: 'del', key: ownedKey(chain.author, chain.chainNo) },
      { type: 'del', key: chainNoKey(chain.chainNo) },
    )
  }

  /** Records the item change of `chain` (if any) into `items`. */
  #itemChange(chain: ChainRecord, removed: boolean, items: ItemChange[]): void {
    const was = this.#wasItem.get(chain) ?? false
    const now = !removed && !chain.claimed
    this.#wasItem.set(chain, now)
    if (!was && !now) return
    const digest = now ? itemDigest(chain.chainId, chain.headId, chain.headHeight) : null
    items.push({ chainId: chain.chainId, was, digest })
  }

  /**
   * All pending operations as one batch (chain records and tags last), and the item
   * changes they make for the reconciliation index; then empties itself.
   */
  drain(): { ops: Op[]; items: ItemChange[] } {
    const ops = this.ops
    const items: ItemChange[] = []
    for (const chain of this.#droppedChains) this.#itemChange(chain, true, items)
    // The record keys of the chains started (a page of new chains, mostly) share one
    // allocation: a database that keeps keys by reference (memory-level) keeps them all as
    // long as those chains are stored, and no key of another chain pins it.
    const started = this.#startedChains
    const slab = started.size > 1 ? new Uint8Array(started.size * CHAIN_KEY_BYTES) : undefined
    let at = 0
    for (const chain of this.#dirtyChains) {
      let key: Uint8Array
      if (slab && started.has(chain)) {
        key = chainKey(chain.chainId, slab.subarray(at, at + CHAIN_KEY_BYTES))
        at += CHAIN_KEY_BYTES
      } else key = chainKey(chain.chainId)
      ops.push({ type: 'put', key, value: encodeChain(chain) })
      this.#itemChange(chain, false, items)
    }
    for (const [chain, entry] of this.#ownerTags) {
      ops.push({
        type: 'put',
        key: ownedKey(chain.author, chain.chainNo),
        value: encodeAuthored(chain.chainNo, entry),
      })
    }
    for (const { author, chain, entry } of this.#foreignTags.values()) {
      ops.push({
        type: 'put',
        key: authoredKey(author, chain.chainNo),
        value: encodeAuthored(chain.chainNo, entry),
      })
    }
    if (this.#seqChanged) ops.push({ type: 'put', key: SEQ_KEY, value: encodeU64(this.seq) })
    this.ops = []
    this.evicted.clear() // deleted by these ops: the disk says so once they are written
    this.#pendingIds = []
    this.#pending = []
    this.#pendingIndex = new Map()
    this.#indexed = 0
    this.#dirtyChains = new Set()
    this.#startedChains = new Set()
    this.#droppedChains = []
    this.#ownerTags = new Map()
    this.#foreignTags = new Map()
    this.#seqChanged = false
    this.#registrySlots = new Map()
    return { ops, items }
  }
}
