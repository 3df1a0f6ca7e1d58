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
export { TOPIC_BYTES, topicKey } from './topic.ts'
