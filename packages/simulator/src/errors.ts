import { PicoError } from '@picostack/kernel'

/**
 * Codes thrown by `@picostack/simulator`. Match on `code`, never on `message`.
 *
 * | code | meaning |
 * |---|---|
 * | `SIM_INVALID_INPUT` | an option or argument is out of range (a negative latency, a loss of 1, an unknown peer name...) |
 * | `SIM_DUPLICATE_PEER` | `launch` was given a name already in use |
 * | `SIM_PEER_STATE` | a peer was asked to do what its state does not allow (restart a running peer, crash a stopped one) |
 * | `SIM_STALLED` | async work (a delivery, a callback) did not settle within `stallTimeoutMs` of wall time: it waits for virtual time, which only moves once everything is idle |
 * | `SIM_CALLBACK_FAILED` | a scenario callback (setup, timer) threw or rejected; the run stops, the error is the `cause` |
 * | `SIM_LINK_RESET` | the close reason a kernel sees when a partition or a crash cut its connection |
 * | `SIM_CLOSED` | the simulator was closed |
 */
export type SimErrorCode =
  | 'SIM_INVALID_INPUT'
  | 'SIM_DUPLICATE_PEER'
  | 'SIM_PEER_STATE'
  | 'SIM_STALLED'
  | 'SIM_CALLBACK_FAILED'
  | 'SIM_LINK_RESET'
  | 'SIM_CLOSED'

/** Error thrown by `@picostack/simulator`; see {@link SimErrorCode} for the codes. */
export class SimError extends PicoError<SimErrorCode> {}
