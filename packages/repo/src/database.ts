/** Options the repo passes with every operation: bytes in, bytes out. */
export interface ViewEncodings {
  keyEncoding: 'view'
  valueEncoding?: 'view'
}

/** Range options of iterators, on byte keys. */
export interface ViewRange extends ViewEncodings {
  gt?: Uint8Array
  gte?: Uint8Array
  lt?: Uint8Array
  lte?: Uint8Array
  reverse?: boolean
  limit?: number
}

/** One write of a batch, byte keys and values. */
export type ViewBatchOp =
  | { type: 'put'; key: Uint8Array; value: Uint8Array }
  | { type: 'del'; key: Uint8Array }

/**
 * The part of an abstract-level database (classic-level, browser-level, memory-level,
 * level...) that the repo uses. Any `AbstractLevel` fits, whatever its default encodings:
 * the repo asks for `'view'` encodings per operation.
 */
export interface LevelDatabase {
  readonly status: string
  get(key: Uint8Array, options: ViewEncodings): Promise<Uint8Array | undefined>
  has(key: Uint8Array, options: ViewEncodings): Promise<boolean>
  hasMany(keys: Uint8Array[], options: ViewEncodings): Promise<boolean[]>
  batch(ops: ViewBatchOp[], options: ViewEncodings): Promise<void>
  iterator(options: ViewRange): AsyncIterable<[Uint8Array, Uint8Array]>
  keys(options: ViewRange): AsyncIterable<Uint8Array>
  values(options: ViewRange): AsyncIterable<Uint8Array>
  close(): Promise<void>
}
