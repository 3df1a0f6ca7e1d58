import { type Block, utf8 } from '@picostack/feed'
import type { ViewBatchOp } from './database.ts'
import { RepoError } from './errors.ts'
import { concat, prefixEnd } from './layout.ts'

/**
 * One registry operation with its absolute key (registry prefix included). Build them with
 * {@link Registry.putOp} / {@link Registry.delOp}; they are written by `repo.batch(ops)` or
 * in the same atomic batch as a block (`repo.writeBlock(block, { ops })`). Keys are absolute:
 * the registry's prefix, then the key.
 */
export type RegistryOp = ViewBatchOp

/** Range of registry keys, relative to the registry (prefix not included). */
export interface RegistryRange {
  /** Keys greater than or equal to this (relative to the registry). */
  gte?: Uint8Array
  /** Keys less than this (relative to the registry). */
  lt?: Uint8Array
  /** Most entries to yield; default all. */
  limit?: number
  /** Descending by key bytes (default false: ascending). */
  reverse?: boolean
}

/** What a registry needs from its repo: reads, serialized writes and a closed check. */
export interface RegistryHost {
  /** The value under an absolute key, or `undefined`. */
  get(key: Uint8Array): Promise<Uint8Array | undefined>
  /**
   * The values under absolute keys (`undefined` where none), in one read, which also reads
   * ahead what a write of `writing` will look up.
   */
  getMany(keys: Uint8Array[], writing?: readonly Block[]): Promise<(Uint8Array | undefined)[]>
  /** Writes ops atomically, after the repo's queued writes. */
  write(ops: RegistryOp[]): Promise<void>
  /** Entries from `gte` (inclusive) to `lt` (exclusive), at most `limit` (-1: all), descending when `reverse`. */
  entries(
    gte: Uint8Array,
    lt: Uint8Array,
    limit: number,
    reverse?: boolean,
  ): AsyncIterable<[Uint8Array, Uint8Array]>
}

/**
 * A registry key's bytes (a string as UTF-8), without the registry's prefix.
 * @throws REPO_INVALID_INPUT when `key` is neither a string nor bytes
 */
function relativeKey(key: Uint8Array | string): Uint8Array {
  if (typeof key === 'string') return utf8(key)
  if (key instanceof Uint8Array) return key
  throw new RepoError('REPO_INVALID_INPUT', 'registry key must be a string or Uint8Array')
}

/**
 * A namespaced key/value area of a repo for the layers above (identity, persisted state,
 * timers, mempool). Keys are bytes or strings (UTF-8); values are bytes. Registries of
 * different names never see each other's keys.
 */
export class Registry {
  readonly #host: RegistryHost
  readonly #prefix: Uint8Array

  /** Use `repo.registry(name)`; `prefix` is the registry's absolute key prefix. */
  constructor(host: RegistryHost, prefix: Uint8Array) {
    this.#host = host
    this.#prefix = prefix
  }

  #key(key: Uint8Array | string): Uint8Array {
    return concat(this.#prefix, relativeKey(key))
  }

  /**
   * The absolute keys of `keys`, views of one allocation: read keys are not kept, and V8
   * gives every typed array over 64 B a buffer of its own (~0.6 us on Node 20).
   */
  #keys(keys: readonly (Uint8Array | string)[]): Uint8Array[] {
    const relative = keys.map(relativeKey)
    const prefix = this.#prefix
    let size = 0
    for (const key of relative) size += prefix.length + key.length
    const all = new Uint8Array(size)
    let at = 0
    return relative.map((key) => {
      const out = all.subarray(at, at + prefix.length + key.length)
      out.set(prefix)
      out.set(key, prefix.length)
      at += out.length
      return out
    })
  }

  /**
   * The value stored under `key`, or `undefined`.
   * @throws REPO_CLOSED after `repo.close()`
   * @throws REPO_LAYOUT for a database of another key layout
   * @throws REPO_INVALID_INPUT when `key` is neither a string nor bytes
   */
  async get(key: Uint8Array | string): Promise<Uint8Array | undefined> {
    return this.#host.get(this.#key(key))
  }

  /**
   * The values stored under `keys` (`undefined` where none), in one database read. With
   * `writing` (blocks about to be written with `repo.writeBlocks` or `merge`), that read
   * also takes what their write looks up (the chain records of the geneses among them), so
   * the write reads nothing more, unless another write ran meanwhile.
   * @throws REPO_CLOSED after `repo.close()`
   * @throws REPO_LAYOUT for a database of another key layout
   * @throws REPO_INVALID_INPUT when a key is neither a string nor bytes
   */
  async getMany(
    keys: (Uint8Array | string)[],
    { writing }: { writing?: readonly Block[] } = {},
  ): Promise<(Uint8Array | undefined)[]> {
    if (keys.length === 0) return []
    return this.#host.getMany(this.#keys(keys), writing)
  }

  /**
   * Stores `value` under `key`.
   * @throws REPO_CLOSED after `repo.close()`
   * @throws REPO_LAYOUT for a database of another key layout
   * @throws REPO_INVALID_INPUT when `key` or `value` has the wrong type
   */
  async put(key: Uint8Array | string, value: Uint8Array): Promise<void> {
    return this.#host.write([this.putOp(key, value)])
  }

  /**
   * Deletes `key` (no error when absent).
   * @throws REPO_CLOSED after `repo.close()`
   * @throws REPO_LAYOUT for a database of another key layout
   */
  async del(key: Uint8Array | string): Promise<void> {
    return this.#host.write([this.delOp(key)])
  }

  /**
   * An operation that puts `value` under `key` when written (not written yet).
   * @throws REPO_INVALID_INPUT when `key` or `value` has the wrong type
   */
  putOp(key: Uint8Array | string, value: Uint8Array): RegistryOp {
    if (!(value instanceof Uint8Array)) {
      throw new RepoError('REPO_INVALID_INPUT', 'registry value must be a Uint8Array')
    }
    return { type: 'put', key: this.#key(key), value }
  }

  /**
   * An operation that deletes `key` when written (not written yet).
   * @throws REPO_INVALID_INPUT when `key` has the wrong type
   */
  delOp(key: Uint8Array | string): RegistryOp {
    return { type: 'del', key: this.#key(key) }
  }

  /**
   * Entries `[key, value]` ascending by key bytes (descending with `reverse`); keys are
   * relative to this registry.
   * @throws REPO_CLOSED after `repo.close()`
   * @throws REPO_LAYOUT for a database of another key layout
   * @throws REPO_INVALID_INPUT for a malformed range
   */
  async *entries(range: RegistryRange = {}): AsyncIterable<[Uint8Array, Uint8Array]> {
    const { gte, lt, limit = -1, reverse = false } = range
    if ((gte && !(gte instanceof Uint8Array)) || (lt && !(lt instanceof Uint8Array))) {
      throw new RepoError('REPO_INVALID_INPUT', 'range bounds must be Uint8Array')
    }
    if (limit !== -1 && !(Number.isInteger(limit) && limit >= 0)) {
      throw new RepoError('REPO_INVALID_INPUT', 'limit must be a non-negative integer')
    }
    const from = gte ? concat(this.#prefix, gte) : this.#prefix
    const to = lt ? concat(this.#prefix, lt) : prefixEnd(this.#prefix)
    const skip = this.#prefix.length
    for await (const [key, value] of this.#host.entries(from, to, limit, reverse === true)) {
      yield [key.subarray(skip), value]
    }
  }
}
