export {
  type Convergence,
  type ConvergencePoint,
  convergence,
  digest,
  type Sample,
  stableJson,
} from './convergence.ts'
export { SimError, type SimErrorCode } from './errors.ts'
export { EventQueue, type SimEvent } from './event-queue.ts'
export { Idle } from './idle.ts'
export { Link, type LinkHost, type LinkPeer, type LinkState, type TrafficStats } from './link.ts'
export {
  combineProfiles,
  DEFAULT_LINK_PROFILE,
  type LinkProfile,
  linkProfile,
  MAX_LOSS,
} from './link-profile.ts'
export {
  type BlockStats,
  type KernelDatabase,
  type KernelFactory,
  type PeerHost,
  type PeerSettings,
  type PeerState,
  SimPeer,
} from './peer.ts'
export { Prng } from './prng.ts'
export {
  type PeerSummary,
  Report,
  type ReportInput,
  type ReportPeer,
  type ReportSummary,
  type TrafficTotals,
} from './report.ts'
export {
  type LaunchOptions,
  type RunOptions,
  type Signal,
  Simulator,
  type SimulatorOptions,
} from './simulator.ts'
export { Trace, type TraceLine } from './trace.ts'
export { type PlugHooks, trackedPlug } from './tracked-plug.ts'
export { DEFAULT_START_MS, ScopedClock, VirtualClock } from './virtual-clock.ts'
