import type { Block } from '@picostack/feed'
import { RepoError } from './errors.ts'
import {
  type AuthoredEntry,
  authoredKey,
  blockKey,
  type ChainRecord,
  chainKey,
  encodeAuthored,
  encodeChain,
  encodePlacement,
  encodeU64,
  MAX_HEIGHT,
  metaKey,
  ownedKey,
  type Placement,
  partialKey,
  placementKey,
} from './layout.ts'

/** One database operation with byte keys and values. */
export type Op =
  | { type: 'put'; key: Uint8Array; value: Uint8Array }
  | { type: 'del'; key: Uint8Array }

/** Meta key of the repo-wide write sequence counter. */
export const SEQ_KEY = metaKey('seq')

/** A Map key for bytes (one char per byte). */
export function mapKey(bytes: Uint8Array): string {
  return String.fromCharCode.apply(null, bytes as unknown as number[])
}

/**
 * The changes of one locked write, not yet in the database: the operations, the chain
 * records and placements they create (so later blocks of the same write see them), and the
 * authored tags they move. {@link WriteSet.drain} turns it into one atomic batch.
 */
export class WriteSet {
  /** Operations so far, in order (a later op on the same key wins). */
  ops: Op[] = []
  /** Chain records read or changed during this write; `null` marks a removed chain. */
  readonly chains = new Map<string, ChainRecord | null>()
  /** Placements of blocks added since the last drain. */
  placements = new Map<string, Placement>()
  /** Next write sequence number. */
  seq: number
  #dirtyChains = new Map<string, ChainRecord>()
  #authored = new Map<string, { author: Uint8Array; chainId: Uint8Array; entry: AuthoredEntry }>()
  #seqChanged = false

  constructor(seq: number) {
    this.seq = seq
  }

  /** True when nothing is waiting to be written. */
  get empty(): boolean {
    return this.ops.length === 0 && this.#dirtyChains.size === 0 && this.#authored.size === 0
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
      createdSeq: this.seq,
      heightKnown,
    }
    this.chains.set(mapKey(chain.chainId), chain)
    this.ops.push({
      type: 'put',
      key: ownedKey(chain.author, chain.createdSeq, chain.chainId),
      value: new Uint8Array(0),
    })
    if (!block.genesis) {
      this.ops.push({ type: 'put', key: partialKey(block.sig), value: chain.chainId })
    }
    this.append(chain, block)
  }

  /**
   * Puts `block` on top of `chain` (its placement, its bytes, the chain's head and the
   * author's tag).
   * @throws REPO_INVALID_INPUT when the chain would pass {@link MAX_HEIGHT}
   */
  append(chain: ChainRecord, block: Block): void {
    const height = chain.headHeight + 1
    if (height > MAX_HEIGHT) throw new RepoError('REPO_INVALID_INPUT', 'chain is too long')
    const placement: Placement = { chainId: chain.chainId, height, seq: this.seq++ }
    this.#seqChanged = true
    const id = block.sig.slice()
    this.ops.push(
      { type: 'put', key: placementKey(id), value: encodePlacement(placement) },
      // A copy: stores that keep values by reference must not pin the caller's feed buffer.
      { type: 'put', key: blockKey(chain.chainId, height), value: block.buffer.slice() },
    )
    this.placements.set(mapKey(id), placement)
    chain.headHeight = height
    chain.headId = id
    this.markChain(chain)
    const author = block.key!
    this.#authored.set(mapKey(author) + mapKey(chain.chainId), {
      author: author.slice(),
      chainId: chain.chainId,
      entry: { seq: placement.seq, height, id },
    })
  }

  /** Schedules `chain`'s record to be written with its current fields. */
  markChain(chain: ChainRecord): void {
    const key = mapKey(chain.chainId)
    this.chains.set(key, chain)
    this.#dirtyChains.set(key, chain)
  }

  /** Removes `chain`'s record and its owner tag. */
  dropChain(chain: ChainRecord): void {
    const key = mapKey(chain.chainId)
    this.chains.set(key, null)
    this.#dirtyChains.delete(key)
    this.ops.push(
      { type: 'del', key: chainKey(chain.chainId) },
      { type: 'del', key: ownedKey(chain.author, chain.createdSeq, chain.chainId) },
    )
  }

  /** All pending operations as one batch (chain records and tags last); then empties itself. */
  drain(): Op[] {
    const ops = this.ops
    for (const chain of this.#dirtyChains.values()) {
      ops.push({ type: 'put', key: chainKey(chain.chainId), value: encodeChain(chain) })
    }
    for (const { author, chainId, entry } of this.#authored.values()) {
      ops.push({ type: 'put', key: authoredKey(author, chainId), value: encodeAuthored(entry) })
    }
    if (this.#seqChanged) ops.push({ type: 'put', key: SEQ_KEY, value: encodeU64(this.seq) })
    this.ops = []
    this.placements = new Map()
    this.#dirtyChains = new Map()
    this.#authored = new Map()
    this.#seqChanged = false
    return ops
  }
}
