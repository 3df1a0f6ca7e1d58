import { PicoError } from '@picostack/feed'

/**
 * Codes thrown by `@picostack/modem`.
 *
 * | code | meaning |
 * |---|---|
 * | `MODEM_INVALID_TOPIC` | a topic is neither a string nor a 32-byte Uint8Array |
 * | `MODEM_INVALID_INPUT` | another argument or option has the wrong type or range |
 * | `MODEM_ALREADY_JOINED` | `join` of a topic this modem has already joined |
 * | `MODEM_DESTROYED` | the modem (or the swarm it was given) is destroyed |
 */
export type ModemErrorCode =
  | 'MODEM_INVALID_TOPIC'
  | 'MODEM_INVALID_INPUT'
  | 'MODEM_ALREADY_JOINED'
  | 'MODEM_DESTROYED'

/** Error thrown by `@picostack/modem`; see {@link ModemErrorCode} for the codes. */
export class ModemError extends PicoError<ModemErrorCode> {}
