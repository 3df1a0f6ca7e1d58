/** Protocol version spoken by this implementation; peers with another version are dropped. */
export const PROTOCOL_VERSION = 1

/** Bytes in a random node id (chosen per kernel run). */
export const NODE_ID_BYTES = 16

/** Bytes in the random nonce each side picks per connection (breaks duplicate ties). */
export const NONCE_BYTES = 8

/** Smallest `maxPatchBytes`: `PIC0` and one block with the largest body feeds allow (64 KiB). */
export const MIN_PATCH_BYTES = 4 + 64 * 1024 + 200

/** Most bytes a patch message adds around the feeds of its segments: its own array and type. */
export const PATCH_OVERHEAD_BYTES = 16

/** Most bytes a segment adds around its feed (CBOR array, chain id, height, byte-string header). */
export const SEGMENT_OVERHEAD_BYTES = 96

/**
 * Bounds of the sync protocol, per session (docs/protocol.md, "Limits"). Both sides should
 * use the same values; a sender paces itself to half of `ratePerSec` / `burst`.
 */
export interface SyncLimits {
  /** Largest message accepted, in bytes (default 1 MiB, the net frame limit). */
  maxMessageBytes: number
  /**
   * Most feed bytes in one patch, all its segments together (default 256 KiB); senders
   * chunk to it. At least {@link MIN_PATCH_BYTES}; `maxMessageBytes` must hold it plus
   * {@link SEGMENT_OVERHEAD_BYTES} per segment and {@link PATCH_OVERHEAD_BYTES}.
   */
  maxPatchBytes: number
  /** Most chains (segments) in one patch (default 512). */
  maxPatchChains: number
  /** Most chains in one summary page (default 256). */
  maxSummaryChains: number
  /** Most chains a peer's summary may list in total (default 65 536). */
  maxRemoteChains: number
  /** Most bytes in a query or its answer payload (default 64 KiB). */
  maxQueryBytes: number
  /** Token bucket: messages a peer may send at once (default 2048). */
  burst: number
  /** Token bucket: messages per second refilled (default 1024). */
  ratePerSec: number
  /** Bad messages after which the peer is disconnected with `KERNEL_MISBEHAVING` (default 10). */
  maxStrikes: number
  /** Patches a sender keeps in flight (sent, not yet acknowledged) (default 4). */
  patchWindow: number
}

/** The defaults of {@link SyncLimits}. */
export const DEFAULT_SYNC_LIMITS: Readonly<SyncLimits> = Object.freeze({
  maxMessageBytes: 1024 * 1024,
  maxPatchBytes: 256 * 1024,
  maxPatchChains: 512,
  maxSummaryChains: 256,
  maxRemoteChains: 65_536,
  maxQueryBytes: 64 * 1024,
  burst: 2048,
  ratePerSec: 1024,
  maxStrikes: 10,
  patchWindow: 4,
})
