/**
 * Base class of every error picostack throws on purpose.
 *
 * `code` is stable and prefixed by package (`FEED_`, `REPO_`, `STORE_`, `KERNEL_`...);
 * match on it, never on `message`. The underlying failure, when there is one, is in
 * `cause` (standard `ErrorOptions`).
 */
export class PicoError<Code extends string = string> extends Error {
  /** Stable machine-readable error code, e.g. `FEED_DIVERGED`. */
  readonly code: Code

  /**
   * @param code - stable code, prefixed by package
   * @param message - human-readable explanation (may change between versions)
   * @param options - `{ cause }` of the failure, if any
   */
  constructor(code: Code, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

/**
 * Codes thrown by `@picostack/feed`.
 *
 * | code | meaning |
 * |---|---|
 * | `FEED_DECODE` | bytes are not a well-formed block or feed (truncated, bad varint, bad header) |
 * | `FEED_SIGNATURE` | a block's Ed25519 signature does not verify under the package's rule (docs/block-format.md, "Signatures") |
 * | `FEED_PARENT` | a block's parent signature does not match the block before it |
 * | `FEED_UNRELATED` | two feeds share no block or parent (`diff`) |
 * | `FEED_DIVERGED` | two feeds fork: same parent, different blocks (`diff`) |
 * | `FEED_TOO_LARGE` | a body or feed exceeds its size limit |
 * | `FEED_INVALID_BODY` | a body to append is empty or starts with byte 0x00 |
 * | `FEED_INVALID_KEY` | a key is not 32 bytes / 64 hex characters |
 * | `FEED_INVALID_INPUT` | an argument has the wrong type or range |
 */
export type FeedErrorCode =
  | 'FEED_DECODE'
  | 'FEED_SIGNATURE'
  | 'FEED_PARENT'
  | 'FEED_UNRELATED'
  | 'FEED_DIVERGED'
  | 'FEED_TOO_LARGE'
  | 'FEED_INVALID_BODY'
  | 'FEED_INVALID_KEY'
  | 'FEED_INVALID_INPUT'

/** Error thrown by `@picostack/feed`; see {@link FeedErrorCode} for the codes. */
export class FeedError extends PicoError<FeedErrorCode> {}
