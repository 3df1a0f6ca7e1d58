import { PicoError } from '@picostack/feed'

/**
 * Codes thrown by `picostack` (the kernel and the sync protocol).
 *
 * | code | meaning |
 * |---|---|
 * | `KERNEL_NOT_BOOTED` | a method that needs `boot()` was called before it |
 * | `KERNEL_CLOSED` | the kernel was closed |
 * | `KERNEL_DB_LOCKED` | the kernel's database is open in another kernel or process (one kernel per database) |
 * | `KERNEL_INVALID_INPUT` | an argument has the wrong type or shape |
 * | `KERNEL_PROTOCOL` | a peer sent a message that does not decode or breaks the protocol |
 * | `KERNEL_VERSION` | a peer speaks another protocol version |
 * | `KERNEL_DUPLICATE_PEER` | a second connection to a peer already connected |
 * | `KERNEL_SELF_WIRE` | a kernel's wire reached the kernel itself (its own node id said hello) |
 * | `KERNEL_TOO_MANY_SESSIONS` | a wire spawned past `maxSessions` or `maxSessionsPerAddress` |
 * | `KERNEL_HANDSHAKE_TIMEOUT` | the peer's hello did not arrive within `handshakeTimeoutMs` |
 * | `KERNEL_IDLE_TIMEOUT` | nothing arrived from the peer for `idleTimeoutMs` |
 * | `KERNEL_TOO_LARGE` | a message or patch exceeds its size limit |
 * | `KERNEL_FLOOD` | a peer sent more than a limit allows at once: messages per second, bytes, patches, queries or wants waiting |
 * | `KERNEL_TOO_MANY_LINKS` | a direct-link cap is reached, or a peer asked to reach too many others (docs/webrtc.md) |
 * | `KERNEL_NO_ROUTE` | a signal for a peer this kernel cannot reach or that takes no direct links |
 * | `KERNEL_MISBEHAVING` | a peer passed the threshold of bad messages and was disconnected |
 * | `KERNEL_REMOTE_ERROR` | a peer answered a request with an error message (its code is in `reason`) |
 */
export type KernelErrorCode =
  | 'KERNEL_NOT_BOOTED'
  | 'KERNEL_CLOSED'
  | 'KERNEL_DB_LOCKED'
  | 'KERNEL_INVALID_INPUT'
  | 'KERNEL_PROTOCOL'
  | 'KERNEL_VERSION'
  | 'KERNEL_DUPLICATE_PEER'
  | 'KERNEL_SELF_WIRE'
  | 'KERNEL_TOO_MANY_SESSIONS'
  | 'KERNEL_HANDSHAKE_TIMEOUT'
  | 'KERNEL_IDLE_TIMEOUT'
  | 'KERNEL_TOO_LARGE'
  | 'KERNEL_FLOOD'
  | 'KERNEL_TOO_MANY_LINKS'
  | 'KERNEL_NO_ROUTE'
  | 'KERNEL_MISBEHAVING'
  | 'KERNEL_REMOTE_ERROR'

/** Error thrown by `picostack`; see {@link KernelErrorCode} for the codes. */
export class KernelError extends PicoError<KernelErrorCode> {}
