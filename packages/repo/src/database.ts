/** Options the repo passes with every operation: bytes in, bytes out. */
export interface ViewEncodings {
  /** Keys are Uint8Arrays. */
  keyEncoding: 'view'
  /** Values are Uint8Arrays. */
  valueEncoding?: 'view'
}

/** Range options of iterators, on byte keys. */
export interface ViewRange extends ViewEncodings {
  /** Keys greater than this. */
  gt?: Uint8Array
  /** Keys greater than or equal to this. */
  gte?: Uint8Array
  /** Keys less than this. */
  lt?: Uint8Array
  /** Keys less than or equal to this. */
  lte?: Uint8Array
  /** Descending key order. */
  reverse?: boolean
  /** Most entries to yield (-1: all). */
  limit?: number
}

/** One write of a batch, byte keys and values. */
export type ViewBatchOp =
  | {
      /** Stores `value` under `key`. */
      type: 'put'
      /** The key bytes. */
      key: Uint8Array
      /** The value bytes. */
      value: Uint8Array
    }
  | {
      /** Deletes `key`. */
      type: 'del'
      /** The key bytes. */
      key: Uint8Array
    }

/**
 * The part of an abstract-level database (classic-level, browser-level, memory-level,
 * level...) that the repo uses. Any `AbstractLevel` fits, whatever its default encodings:
 * the repo asks for `'view'` encodings per operation.
 */
export interface LevelDatabase {
  /** `'opening'`, `'open'`, `'closing'` or `'closed'`. */
  readonly status: string
  /** The value under `key`, or `undefined`. */
  get(key: Uint8Array, options: ViewEncodings): Promise<Uint8Array | undefined>
  /** The values under `keys` (`undefined` where none), in one read. */
  getMany(keys: Uint8Array[], options: ViewEncodings): Promise<(Uint8Array | undefined)[]>
  /** True when `key` is stored. */
  has(key: Uint8Array, options: ViewEncodings): Promise<boolean>
  /** For each key, whether it is stored. */
  hasMany(keys: Uint8Array[], options: ViewEncodings): Promise<boolean[]>
  /** Writes every op atomically. */
  batch(ops: ViewBatchOp[], options: ViewEncodings): Promise<void>
  /** `[key, value]` entries of a range. */
  iterator(options: ViewRange): AsyncIterable<[Uint8Array, Uint8Array]>
  /** Keys of a range. */
  keys(options: ViewRange): AsyncIterable<Uint8Array>
  /** Values of a range. */
  values(options: ViewRange): AsyncIterable<Uint8Array>
  /** Closes the database. */
  close(): Promise<void>
}
