export { RelayError, type RelayErrorCode } from './errors.ts'
export { DEFAULT_RELAY_LIMITS, type RelayLimits } from './limits.ts'
export {
  DEFAULT_MAX_SWARM_PEERS,
  DEFAULT_RETENTION_MS,
  MAX_CLOCK_SKEW_MS,
  RELAY_REJECT,
  RelayKernel,
  type RelayKernelOptions,
  relaySessionLimits,
} from './relay-kernel.ts'
export { type Relay, type RelayOptions, startRelay } from './start-relay.ts'
export {
  CLOSE_GOING_AWAY,
  CLOSE_POLICY_VIOLATION,
  type RelayClient,
  type RelayEvents,
  type RelayRejection,
  type RelayServerOptions,
  type SpawnClientWire,
  WebSocketRelay,
} from './websocket-relay.ts'
