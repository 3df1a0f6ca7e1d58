/**
 * Bounds of signalling (docs/webrtc.md, "Limits"): what one peer can make a kernel hold,
 * forward or open. Every count is per kernel unless it says otherwise. Each is positive,
 * but `linkRetries` may be 0.
 */
export interface SignalLimits {
  /** Largest signalling message, bytes (default 16 KiB: an SDP offer is 0.5-3 KiB). */
  maxSignalBytes: number
  /** Token bucket per peer: signalling messages it may send at once (default 64). */
  signalBurst: number
  /** Token bucket per peer: signalling messages refilled per second (default 16). */
  signalsPerSec: number
  /** Most peers an introducer lists to one peer, and a peer accepts in one list (default 64). */
  maxIntroductions: number
  /**
   * Most distinct peers one peer may ask an introducer to reach within
   * `introductionWindowMs` (default 32); further asks are refused with
   * `KERNEL_TOO_MANY_LINKS`.
   */
  maxTargetsPerPeer: number
  /** The window of `maxTargetsPerPeer`, ms (default 60 000). */
  introductionWindowMs: number
  /** Most direct links being negotiated at once (default 8). */
  maxPendingLinks: number
  /** Most direct links being negotiated at once through one introducer (default 4). */
  maxPendingPerIntroducer: number
  /** Most open direct links (default 32). */
  maxDirectLinks: number
  /**
   * Time a direct link may take to open, ms (default 15 000); then it ends `failed` with
   * `NET_TIMEOUT`.
   */
  connectTimeoutMs: number
  /**
   * Least time before a peer whose link failed is tried again on a new introduction, ms
   * (default 60 000), so a peer behind a firewall costs one try a minute, not one per
   * introduction round.
   */
  failedLinkRetryMs: number
  /**
   * Tries again, by the side that offers, after a link fails on the way (`NET_TIMEOUT`,
   * `NET_ICE_FAILED`, `NET_DISCONNECTED`, `NET_MALFORMED`, or the peer's refusal with one
   * of them), before
   * the peer waits for `failedLinkRetryMs` (default 2; 0 turns them off). ICE checks can
   * fail on a loaded device or a flaky network; the next try often connects.
   */
  linkRetries: number
  /** Delay before the first of the `linkRetries`, ms; each next one waits twice as long (default 2 000). */
  linkRetryDelayMs: number
}

/** The defaults of {@link SignalLimits}. */
export const DEFAULT_SIGNAL_LIMITS: Readonly<SignalLimits> = Object.freeze({
  maxSignalBytes: 16 * 1024,
  signalBurst: 64,
  signalsPerSec: 16,
  maxIntroductions: 64,
  maxTargetsPerPeer: 32,
  introductionWindowMs: 60_000,
  maxPendingLinks: 8,
  maxPendingPerIntroducer: 4,
  maxDirectLinks: 32,
  connectTimeoutMs: 15_000,
  failedLinkRetryMs: 60_000,
  linkRetries: 2,
  linkRetryDelayMs: 2_000,
})
