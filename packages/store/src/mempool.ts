import { Block, toHex } from '@picostack/feed'
import type { Registry, RegistryOp } from '@picostack/repo'
import { decode, encode } from 'cborg'
import { key, TAG, tagRange } from './layout.ts'

/** Bounds of the mempool of blocks waiting for their parent or for a retry. */
export interface MempoolLimits {
  /** Most blocks held; the oldest are dropped first (default 1024). */
  maxBlocks: number
  /** A block waiting longer than this is dropped (default 10 minutes). */
  ttlMs: number
}

export const DEFAULT_MEMPOOL: MempoolLimits = { maxBlocks: 1024, ttlMs: 10 * 60_000 }

interface Waiting {
  block: Block
  key: string
  parentKey: string
  addedAt: number
  /** Retries used so far (postponed blocks). */
  tries: number
  /** When a postponed block is tried again; 0 while it waits for its parent. */
  retryAt: number
}

/**
 * Blocks that cannot be applied yet: their parent is unknown (out-of-order delivery), or a
 * consumer postponed them. Persisted in the store's registry, bounded in count and age.
 */
export class Mempool {
  readonly #registry: Registry
  readonly #limits: MempoolLimits
  readonly #write: (ops: RegistryOp[]) => Promise<void>
  readonly #byKey = new Map<string, Waiting>()
  readonly #byParent = new Map<string, string>()

  /** `write` commits registry ops atomically (`repo.batch`). */
  constructor(
    registry: Registry,
    limits: MempoolLimits,
    write: (ops: RegistryOp[]) => Promise<void>,
  ) {
    this.#registry = registry
    this.#limits = limits
    this.#write = write
  }

  /** Blocks waiting. */
  get size(): number {
    return this.#byKey.size
  }

  /** Reads the persisted mempool. */
  async load(): Promise<void> {
    for await (const [, value] of this.#registry.entries(tagRange(TAG.mempool))) {
      const [bytes, addedAt, tries, retryAt] = decode(value) as [Uint8Array, number, number, number]
      this.#remember(new Block(bytes), addedAt, tries, retryAt)
    }
  }

  #remember(block: Block, addedAt: number, tries: number, retryAt: number): Waiting {
    const entry: Waiting = {
      block,
      key: toHex(block.sig),
      parentKey: block.genesis ? '' : toHex(block.psig),
      addedAt,
      tries,
      retryAt,
    }
    this.#byKey.set(entry.key, entry)
    if (entry.parentKey) this.#byParent.set(entry.parentKey, entry.key)
    return entry
  }

  #forget(entry: Waiting, ops: RegistryOp[]): void {
    this.#byKey.delete(entry.key)
    if (this.#byParent.get(entry.parentKey) === entry.key) this.#byParent.delete(entry.parentKey)
    ops.push(this.#registry.delOp(key(TAG.mempool, entry.block.sig)))
  }

  /**
   * Adds blocks (a chain segment, in order). The first one waits for its retry time when
   * `retryAt > 0`, else for its parent. Drops the oldest blocks beyond `maxBlocks`.
   */
  async add(blocks: readonly Block[], now: number, tries = 0, retryAt = 0): Promise<void> {
    const ops: RegistryOp[] = []
    blocks.forEach((block, i) => {
      const old = this.#byKey.get(toHex(block.sig))
      if (old) this.#forget(old, ops)
      const entry = this.#remember(block, now, i === 0 ? tries : 0, i === 0 ? retryAt : 0)
      ops.push(
        this.#registry.putOp(
          key(TAG.mempool, block.sig),
          encode([block.buffer, entry.addedAt, entry.tries, entry.retryAt]),
        ),
      )
    })
    for (const entry of this.#byKey.values()) {
      if (this.#byKey.size <= this.#limits.maxBlocks) break
      this.#forget(entry, ops)
    }
    await this.#write(ops)
  }

  /** The waiting children of `parentKey`, child first, then its child... (not removed). */
  chainAfter(parentKey: string): Block[] {
    const out: Block[] = []
    for (let k = this.#byParent.get(parentKey); k !== undefined; ) {
      const entry = this.#byKey.get(k)
      if (!entry || entry.retryAt > 0) break
      out.push(entry.block)
      k = this.#byParent.get(entry.key)
    }
    return out
  }

  /** Retries already used by a postponed block (0 if unknown). */
  triesOf(blockKey: string): number {
    return this.#byKey.get(blockKey)?.tries ?? 0
  }

  /** Removes blocks by key (they were applied, rejected or are held now). */
  async remove(keys: Iterable<string>): Promise<void> {
    if (this.#byKey.size === 0) return
    const ops: RegistryOp[] = []
    for (const k of keys) {
      const entry = this.#byKey.get(k)
      if (entry) this.#forget(entry, ops)
    }
    if (ops.length > 0) await this.#write(ops)
  }

  /**
   * Drops blocks older than `ttlMs` and returns the postponed blocks due at `now`, each
   * with the waiting chain after it (they stay in the mempool until `remove`).
   */
  async due(now: number): Promise<{ blocks: Block[]; tries: number }[]> {
    const ops: RegistryOp[] = []
    const retries: { blocks: Block[]; tries: number }[] = []
    for (const entry of [...this.#byKey.values()]) {
      if (entry.addedAt + this.#limits.ttlMs <= now) this.#forget(entry, ops)
      else if (entry.retryAt > 0 && entry.retryAt <= now) {
        retries.push({ blocks: [entry.block, ...this.chainAfter(entry.key)], tries: entry.tries })
      }
    }
    if (ops.length > 0) await this.#write(ops)
    return retries
  }

  /** Earliest time something in the mempool expires or is retried (Infinity if empty). */
  nextDeadline(): number {
    let next = Number.POSITIVE_INFINITY
    for (const entry of this.#byKey.values()) {
      next = Math.min(next, entry.addedAt + this.#limits.ttlMs)
      if (entry.retryAt > 0) next = Math.min(next, entry.retryAt)
    }
    return next
  }

  /** Keys of every waiting block. */
  keys(): IterableIterator<string> {
    return this.#byKey.keys()
  }
}
