export { RelayError, type RelayErrorCode } from './errors.ts'
export {
  DEFAULT_RETENTION_MS,
  MAX_CLOCK_SKEW_MS,
  RELAY_REJECT,
  RelayKernel,
  type RelayKernelOptions,
} from './relay-kernel.ts'
export { type Relay, type RelayOptions, startRelay } from './start-relay.ts'
export {
  CLOSE_GOING_AWAY,
  CLOSE_POLICY_VIOLATION,
  DEFAULT_RELAY_LIMITS,
  type RelayEvents,
  type RelayLimits,
  type RelayRejection,
  type RelayServerOptions,
  WebSocketRelay,
} from './websocket-relay.ts'
