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
 * | `REPO_INVALID_INPUT` | an argument has the wrong type, size or range |
 * | `REPO_UNVERIFIED` | a block fails verification or has no author header; nothing was stored |
 */
export type RepoErrorCode =
  | 'REPO_NOT_FOUND'
  | 'REPO_UNKNOWN_CHAIN'
  | 'REPO_CLOSED'
  | 'REPO_CORRUPT'
  | 'REPO_INVALID_INPUT'
  | 'REPO_UNVERIFIED'

/** Error thrown by `@picostack/repo`; see {@link RepoErrorCode} for the codes. */
export class RepoError extends PicoError<RepoErrorCode> {}
