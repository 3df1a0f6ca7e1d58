/**
 * Codes thrown by `@picostack/react`.
 *
 * | code | meaning |
 * |---|---|
 * | `REACT_NO_KERNEL` | a kernel hook ran outside a `KernelProvider` and was given no kernel |
 */
export type ReactErrorCode = 'REACT_NO_KERNEL'

/** The error of `@picostack/react`: a stable `code`, a message for people, and `cause`. */
export class ReactBindingError extends Error {
  /** What went wrong, stable across versions (see {@link ReactErrorCode}). */
  readonly code: ReactErrorCode

  /**
   * @param code - the stable code
   * @param message - what happened, for people
   * @param options - `cause`: the error behind this one
   */
  constructor(code: ReactErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'ReactBindingError'
    this.code = code
  }
}
