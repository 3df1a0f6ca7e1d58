import { PicoError } from '@picostack/feed'

/**
 * Codes thrown by `@picostack/repo`.
 *
 * | code | meaning |
 * |---|---|
 * | `REPO_NOT_FOUND` | a block named by the call (`stopAt`, `lastId`) is not held in that chain |
 * | `REPO_UNKNOWN_CHAIN` | no chain with that id, or the author owns no chain |
 * | `REPO_CLOSED` | the repo was closed |
 * | `REPO_CORRUPT` | stored records contradict each other (damaged database) |
 * | `REPO_LAYOUT` | the database was written by another key layout (nothing is read, written or migrated) |
 * | `REPO_INVALID_INPUT` | an argument has the wrong type, size or range |
 * | `REPO_UNVERIFIED` | a block fails verification or has no author header; nothing was stored |
 * | `REPO_PARTIAL_WRITE` | a write of several batches failed after some of them were written: {@link RepoPartialWriteError} |
 */
export type RepoErrorCode =
  | 'REPO_NOT_FOUND'
  | 'REPO_UNKNOWN_CHAIN'
  | 'REPO_CLOSED'
  | 'REPO_CORRUPT'
  | 'REPO_LAYOUT'
  | 'REPO_INVALID_INPUT'
  | 'REPO_UNVERIFIED'
  | 'REPO_PARTIAL_WRITE'

/** Error thrown by `@picostack/repo`; see {@link RepoErrorCode} for the codes. */
export class RepoError extends PicoError<RepoErrorCode> {}

/**
 * `REPO_PARTIAL_WRITE`: a `merge` or `writeBlocks` that took several batches (groups of 1024
 * blocks, or a flush before a strategy is asked) failed after some of them were written.
 * What was written is whole and stays: the first `written` blocks with their ops (for
 * `writeBlocks`, writes `0..written-1`), and nothing after them. `cause` is the failure
 * (e.g. the database's `QuotaExceededError`). Any other error of those calls means nothing
 * of the call was written.
 */
export class RepoPartialWriteError extends RepoError {
  /** Blocks of the call written before it failed (for `writeBlocks`: a prefix of the writes). */
  readonly written: number

  /**
   * @param written - blocks written before the failure
   * @param options - `{ cause }`: the failure
   */
  constructor(written: number, options?: ErrorOptions) {
    super('REPO_PARTIAL_WRITE', `the write failed after ${written} blocks were written`, options)
    this.written = written
  }
}
