/** Bytes of one packed record: the head id (64 B) then the height (u32, big-endian). */
const RECORD_BYTES = 64 + 4
/** Records the table starts with; it doubles up to its capacity. */
const INITIAL_RECORDS = 16

/** What a peer holds of one chain: its head and the head's height (the peer's numbering). */
export interface RemoteHead {
  /** The peer's head block id (64 B, a copy). */
  headId: Uint8Array
  /** Height of `headId`, genesis = 1. */
  height: number
}

/**
 * What one peer holds, per chain (hex chain id): packed 68-byte records in one buffer that
 * grows to at most `capacity` records, indexed by a map. A session keeps one, only for the
 * chains its kernel holds, so what a peer announces costs about 250 B per such chain and
 * nothing for the rest.
 */
export class RemoteHeads {
  readonly #index = new Map<string, number>()
  readonly #free: number[] = []
  #records = new Uint8Array(0)
  #view = new DataView(this.#records.buffer)
  #used = 0

  /** @param capacity - most records held (the session's `maxRemoteChains`) */
  constructor(readonly capacity: number) {}

  /** Records held. */
  get size(): number {
    return this.#index.size
  }

  /** True when `chainKey` has a record. */
  has(chainKey: string): boolean {
    return this.#index.has(chainKey)
  }

  /** The height of `chainKey`'s record (nothing copied), or `undefined`. */
  height(chainKey: string): number | undefined {
    const slot = this.#index.get(chainKey)
    return slot === undefined ? undefined : this.#view.getUint32(slot * RECORD_BYTES + 64)
  }

  /** The record of `chainKey`, or `undefined`. */
  get(chainKey: string): RemoteHead | undefined {
    const slot = this.#index.get(chainKey)
    if (slot === undefined) return undefined
    const at = slot * RECORD_BYTES
    return {
      headId: this.#records.slice(at, at + 64),
      height: this.#view.getUint32(at + 64),
    }
  }

  /**
   * Records that the peer holds `chainKey` up to `headId` (64 B) at `height`, unless its
   * record is at `height` or higher already (heights only grow; one lookup of the key).
   * @returns false when nothing changed: a record as high, or the table full and no record
   */
  raise(chainKey: string, headId: Uint8Array, height: number): boolean {
    let slot = this.#index.get(chainKey)
    if (slot !== undefined) {
      if (this.#view.getUint32(slot * RECORD_BYTES + 64) >= height) return false
    } else {
      slot = this.#free.pop() ?? this.#grow()
      if (slot === undefined) return false
      this.#index.set(chainKey, slot)
    }
    const at = slot * RECORD_BYTES
    this.#records.set(headId.subarray(0, 64), at)
    this.#view.setUint32(at + 64, height)
    return true
  }

  /** Forgets the record of `chainKey`. */
  delete(chainKey: string): void {
    const slot = this.#index.get(chainKey)
    if (slot === undefined) return
    this.#index.delete(chainKey)
    this.#free.push(slot)
  }

  /** A fresh slot, growing the buffer when needed; `undefined` at capacity. */
  #grow(): number | undefined {
    if (this.#used >= this.capacity) return undefined
    const slots = this.#records.length / RECORD_BYTES
    if (this.#used === slots) {
      const next = Math.min(this.capacity, Math.max(INITIAL_RECORDS, slots * 2))
      const records = new Uint8Array(next * RECORD_BYTES)
      records.set(this.#records)
      this.#records = records
      this.#view = new DataView(records.buffer)
    }
    return this.#used++
  }
}
