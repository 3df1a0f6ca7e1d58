import { PicoError } from '@picostack/feed'

/**
 * Codes thrown by `@picostack/relay`.
 *
 * | code | meaning |
 * |---|---|
 * | `RELAY_INVALID_INPUT` | an argument or option has the wrong type or range (a limit, `retentionMs`, `spawnWire`) |
 */
export type RelayErrorCode = 'RELAY_INVALID_INPUT'

/** Error thrown by `@picostack/relay`; see {@link RelayErrorCode} for the codes. */
export class RelayError extends PicoError<RelayErrorCode> {}
