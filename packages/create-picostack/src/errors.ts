/**
 * Codes thrown by create-picostack; the CLI prints `error <code>: <message>` and exits 1.
 *
 * | code | when |
 * |---|---|
 * | `CREATE_NOT_EMPTY` | the target exists and is not an empty folder (nothing is written) |
 * | `CREATE_INVALID_NAME` | the package name (the folder's name, or `--name`) is not a valid npm name |
 * | `CREATE_INVALID_INPUT` | unknown option or template, missing folder, or an option without its value |
 * | `CREATE_NO_TEMPLATE` | the package has no `templates/` (a checkout where `build` has not run) |
 * | `CREATE_WORKSPACE` | `--workspace` is not a built picostack checkout, or `pnpm pack` failed |
 */
export type CreateErrorCode =
  | 'CREATE_NOT_EMPTY'
  | 'CREATE_INVALID_NAME'
  | 'CREATE_INVALID_INPUT'
  | 'CREATE_NO_TEMPLATE'
  | 'CREATE_WORKSPACE'

/**
 * Error of create-picostack, with a stable {@link CreateErrorCode} (match on `code`,
 * never on `message`). It has the shape of `PicoError` from `@picostack/feed` without
 * depending on it: `npm create picostack` installs nothing but this package.
 */
export class CreateError extends Error {
  /** Stable code; see {@link CreateErrorCode}. */
  readonly code: CreateErrorCode

  /**
   * @param code - the stable code
   * @param message - what went wrong, for humans
   * @param options - `cause`: the underlying failure, if any
   */
  constructor(code: CreateErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'CreateError'
    this.code = code
  }
}
