/** Bounds of a relay's WebSocket side; documented as one table in the package README. */
import { DEFAULT_MAX_FRAME_BYTES, VARINT_MAX_BYTES } from '@picostack/net'
import { RelayError } from './errors.ts'

/** Bounds of a {@link WebSocketRelay}; every one is per relay unless it says otherwise. */
export interface RelayLimits {
  /**
   * Most connections at once (default 256): WebSockets and TCP connections still sending
   * their upgrade headers. When full, a new client takes the slot of the connection idle
   * longest (see `idleAfterMs`); when none is idle, its upgrade gets HTTP 503.
   */
  maxConnections: number
  /**
   * Most connections at once from one IP address (default 16), counted like
   * `maxConnections`; an IPv6 address counts by its /64 (`addressScope`, @picostack/net),
   * since one host may use any address of its prefix. When full, a new client from that
   * address takes the slot of the address's connection idle longest; when none is idle:
   * HTTP 503.
   */
  maxConnectionsPerIp: number
  /**
   * Largest WebSocket message, bytes (default 1 MiB + 9: one net frame of the default
   * `maxFrameBytes` with its header). A larger one: the connection is destroyed (close
   * code 1009 sent first).
   */
  maxMessageBytes: number
  /** Token bucket per connection: messages it may send at once (default 2048). */
  messageBurst: number
  /** Token bucket per connection: messages refilled per second (default 1024). */
  messagesPerSec: number
  /** Token bucket per connection: bytes refilled per second (default 8 MiB; burst = 4 messages). */
  bytesPerSec: number
  /**
   * Ping every connection this often, ms (default 30 000); one that has not answered the
   * previous ping is destroyed. Browsers answer pings by themselves.
   */
  pingIntervalMs: number
  /**
   * Longest time from a TCP connection to the end of its HTTP upgrade headers, ms
   * (default 10 000); then the socket is destroyed. It holds a slot meanwhile.
   */
  headersTimeoutMs: number
  /**
   * A WebSocket that has sent no message for this long, ms, is idle (default 30 000: a
   * picostack kernel sends a keepalive after 20 s of silence, so a live one never is). An
   * idle connection is the first to go when a new client needs a slot (idle longest first).
   */
  idleAfterMs: number
  /**
   * A WebSocket that has sent no message for this long, ms, is closed and destroyed
   * whether or not its slot is needed (default 60 000). At least `idleAfterMs`.
   */
  idleTimeoutMs: number
}

/** Frame header bytes around a frame's payload: varint length + ports + flags. */
const FRAME_OVERHEAD_BYTES = VARINT_MAX_BYTES + 5

/** The defaults of {@link RelayLimits}. */
export const DEFAULT_RELAY_LIMITS: Readonly<RelayLimits> = Object.freeze({
  maxConnections: 256,
  maxConnectionsPerIp: 16,
  maxMessageBytes: DEFAULT_MAX_FRAME_BYTES + FRAME_OVERHEAD_BYTES,
  messageBurst: 2048,
  messagesPerSec: 1024,
  bytesPerSec: 8 * 1024 * 1024,
  pingIntervalMs: 30_000,
  headersTimeoutMs: 10_000,
  idleAfterMs: 30_000,
  idleTimeoutMs: 60_000,
})

/** Longest delay a JavaScript timer accepts (~24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * The defaults with `overrides` applied, checked.
 * @throws RELAY_INVALID_INPUT when a limit is not a positive integer, a time is past
 *   ~24.8 days (2^31 - 1 ms), or `idleAfterMs` exceeds `idleTimeoutMs`
 */
export function relayLimits(overrides: Partial<RelayLimits> = {}): Readonly<RelayLimits> {
  const limits = { ...DEFAULT_RELAY_LIMITS, ...overrides }
  for (const [name, value] of Object.entries(limits)) {
    if (!(Number.isInteger(value) && value > 0)) {
      throw new RelayError('RELAY_INVALID_INPUT', `relay limit ${name} must be a positive integer`)
    }
    if (name.endsWith('Ms') && value > MAX_TIMER_MS) {
      throw new RelayError('RELAY_INVALID_INPUT', `relay limit ${name} must be <= ${MAX_TIMER_MS}`)
    }
  }
  if (limits.idleAfterMs > limits.idleTimeoutMs) {
    throw new RelayError('RELAY_INVALID_INPUT', 'idleAfterMs must not exceed idleTimeoutMs')
  }
  return Object.freeze(limits)
}
