import { PicoError } from '@picostack/feed'

/**
 * Codes thrown by `@picostack/store`, and the codes of block rejections.
 *
 * | code | meaning |
 * |---|---|
 * | `STORE_REJECTED` | a filter or `compute` rejected the block (`reason` says why); loud dispatch only |
 * | `STORE_UNHANDLED` | no slice or collection accepted the block (unknown type, or every filter said "not mine") |
 * | `STORE_DECODE` | a block body is not a well-formed `[type, payload, date]` body |
 * | `STORE_REDUCER` | an application hook (filter, reducer, idOf, compute, expiresAt) threw |
 * | `STORE_EXPIRED` | the block is already expired: it would back no live state |
 * | `STORE_POSTPONED` | `compute` postponed the block; it waits in the mempool (loud dispatch only) |
 * | `STORE_INVALID_PATCH` | the patch is not a verifiable feed (bad bytes, bad signature, broken links) |
 * | `STORE_INVALID_SLICE` | a registration is malformed, duplicated, or made after `load()` |
 * | `STORE_NOT_LOADED` | `dispatch`, `gc` or `reload` before `load()` |
 * | `STORE_CLOSED` | the store was closed |
 * | `STORE_WRITE` | the repo refused a block the store had accepted (merge strategy, fork) |
 * | `STORE_LAYOUT` | `load()`: the registry was written in another layout of the store's keys (an older store; `src/layout.ts`) |
 */
export type StoreErrorCode =
  | 'STORE_REJECTED'
  | 'STORE_UNHANDLED'
  | 'STORE_DECODE'
  | 'STORE_REDUCER'
  | 'STORE_EXPIRED'
  | 'STORE_POSTPONED'
  | 'STORE_INVALID_PATCH'
  | 'STORE_INVALID_SLICE'
  | 'STORE_NOT_LOADED'
  | 'STORE_CLOSED'
  | 'STORE_WRITE'
  | 'STORE_LAYOUT'

/**
 * Error thrown by `@picostack/store`; see {@link StoreErrorCode}. A rejected block carries
 * the human-readable `reason` given by the application (or by the store).
 */
export class StoreError extends PicoError<StoreErrorCode> {
  /** Why the block was refused (the filter's string or Error message, or the store's). */
  readonly reason: string

  /**
   * @param code - stable code
   * @param reason - why (also the message)
   * @param options - `{ cause }` when an application hook threw
   */
  constructor(code: StoreErrorCode, reason: string, options?: ErrorOptions) {
    super(code, reason, options)
    this.reason = reason
  }
}
