import { asBytes, fromUtf8, toHex } from './bytes.ts'
import { type BlockLayout, DEFAULT_LIMITS, type FeedLimits, SIG_BYTES, scanBlock } from './codec.ts'
import { activeEd25519 } from './crypto.ts'
import { FeedError } from './errors.ts'
import { keyBytes, type PublicKey } from './keys.ts'

const inspectSymbol = Symbol.for('nodejs.util.inspect.custom')

/**
 * A zero-copy view of one signed block (layout in `codec.ts`). Reading a property never
 * copies: `sig`, `psig`, `key`, `body` and `buffer` are subarrays of the bytes the block
 * was read from, so treat them as read-only.
 */
export class Block {
  /** The block's bytes: sig | varint | headers | body (`blockSize` bytes). */
  readonly buffer: Uint8Array
  readonly #layout: BlockLayout
  /** `sig` and `key`, made on first read (the store, repo and sync read them many times). */
  #sig: Uint8Array | undefined = undefined
  #key: Uint8Array | undefined = undefined

  /**
   * Reads the block that starts at `offset` of `bytes`; trailing bytes are ignored.
   * Does not verify the signature (see {@link Block.verify}).
   * @throws FEED_DECODE for truncated or malformed bytes
   * @throws FEED_TOO_LARGE when the body exceeds `limits.maxBodyBytes`
   * @throws FEED_INVALID_INPUT when `bytes` is not bytes or `offset` not a non-negative integer
   */
  constructor(bytes: Uint8Array | ArrayBuffer, offset = 0, limits: FeedLimits = DEFAULT_LIMITS) {
    const source = asBytes(bytes, 'block')
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new FeedError('FEED_INVALID_INPUT', `block offset must be a non-negative integer`)
    }
    this.#layout = scanBlock(source, offset, limits)
    this.buffer = source.subarray(offset, offset + this.#layout.blockSize)
  }

  /** The 64-byte Ed25519 signature, which is also the block's id. */
  get sig(): Uint8Array {
    this.#sig ??= this.buffer.subarray(0, SIG_BYTES)
    return this.#sig
  }

  /** The block's id: its 64-byte signature. */
  get id(): Uint8Array {
    return this.sig
  }

  /** True when the block has no parent-signature header (the first block of a chain). */
  get genesis(): boolean {
    return this.#layout.parentOffset === -1
  }

  /** The parent's 64-byte signature; 64 zero bytes (a fresh array) on a genesis block. */
  get psig(): Uint8Array {
    const at = this.#layout.parentOffset
    return at === -1 ? new Uint8Array(SIG_BYTES) : this.buffer.subarray(at, at + SIG_BYTES)
  }

  /** The author's 32-byte public key from the author header, or `undefined` if absent. */
  get key(): Uint8Array | undefined {
    const at = this.#layout.keyOffset
    if (at === -1) return undefined
    this.#key ??= this.buffer.subarray(at, at + 32)
    return this.#key
  }

  /** The body: the application's bytes (>= 1 byte, first byte non-zero). */
  get body(): Uint8Array {
    return this.buffer.subarray(this.#layout.bodyOffset)
  }

  /** Bytes in the body. */
  get size(): number {
    return this.#layout.blockSize - this.#layout.bodyOffset
  }

  /** Bytes in the whole block (signature, varint, headers and body). */
  get blockSize(): number {
    return this.#layout.blockSize
  }

  /**
   * True when the signature is valid for `publicKey` (default: the block's author key).
   * A block with neither returns false.
   * @throws FEED_INVALID_KEY when `publicKey` is given but malformed
   */
  verify(publicKey?: PublicKey): boolean {
    const key = publicKey === undefined ? this.key : keyBytes(publicKey, 'public key')
    if (!key) return false
    return activeEd25519().verify(this.sig, this.buffer.subarray(SIG_BYTES), key)
  }

  /** One line for humans: short key, sig, parent and the start of the body. */
  toString(): string {
    const short = (b: Uint8Array | undefined) => (b ? toHex(b.subarray(0, 4)) : '-')
    const parent = this.genesis ? 'GENESIS' : short(this.psig)
    const text = JSON.stringify(fromUtf8(this.body.subarray(0, 24)))
    return `Block(key ${short(this.key)} sig ${short(this.sig)} parent ${parent} ${this.size} B ${text})`
  }

  /** What Node's `console.log` / `util.inspect` print: {@link Block.toString}. */
  [inspectSymbol](): string {
    return this.toString()
  }
}
