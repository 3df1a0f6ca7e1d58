export { ModemError, type ModemErrorCode } from './errors.ts'
export {
  DEFAULT_LOOKUP_INTERVAL_MS,
  MODEM_PROTOCOL,
  Modem56,
  type ModemEvents,
  type ModemOptions,
  type PeerConnection,
  type SpawnWire,
  type WireInfo,
} from './modem.ts'
export {
  CLOSE_GOING_AWAY,
  CLOSE_POLICY_VIOLATION,
  DEFAULT_RELAY_LIMITS,
  type RelayEvents,
  type RelayLimits,
  type RelayRejection,
  type RelayServerOptions,
  WebSocketRelay,
} from './relay.ts'
export {
  DEFAULT_RETENTION_MS,
  MAX_CLOCK_SKEW_MS,
  RELAY_REJECT,
  RelayKernel,
  type RelayKernelOptions,
} from './relay-kernel.ts'
export { type Relay, type RelayOptions, startRelay } from './relay-peer.ts'
export { TOPIC_BYTES, topicKey } from './topic.ts'
