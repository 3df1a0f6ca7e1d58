/**
 * Codes thrown by `@picostack/views`.
 *
 * | code | meaning |
 * |---|---|
 * | `VIEWS_TIMEOUT` | `until` or `next` waited `timeoutMs` without the value it waits for |
 * | `VIEWS_INVALID_INPUT` | an argument has the wrong type or shape (a negative delay, a query the view cannot follow) |
 * | `VIEWS_QUERY_FAILED` | a collection read behind a query or count view failed (the read's error is the `cause`) |
 */
export type ViewsErrorCode = 'VIEWS_TIMEOUT' | 'VIEWS_INVALID_INPUT' | 'VIEWS_QUERY_FAILED'

/**
 * The error of `@picostack/views`: a stable `code` to branch on, a message for people,
 * and the underlying error as `cause` when there is one. (Same shape as the other
 * packages' errors; this package has no runtime dependency of ours.)
 */
export class ViewsError extends Error {
  /** What went wrong, stable across versions (see {@link ViewsErrorCode}). */
  readonly code: ViewsErrorCode

  /**
   * @param code - the stable code
   * @param message - what happened, for people
   * @param options - `cause`: the error behind this one
   */
  constructor(code: ViewsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'ViewsError'
    this.code = code
  }
}
