import { SimError } from './errors.ts'

/**
 * What a connection between two peers is like, each way (full duplex: each direction has
 * its own bandwidth). A link between two peers takes the worse of their profiles, field
 * by field (the higher latency, jitter and loss; the lower bandwidth).
 *
 * The sync protocol needs a reliable ordered stream, so a link never drops or reorders a
 * frame. `loss` is modelled the way TCP turns it into delay: each transmission of a frame
 * is lost with probability `loss`, and a lost one is sent again `retransmitMs` after it
 * went out, taking the bandwidth again; the frames behind it wait (head-of-line
 * blocking). Jitter adds a random 0..`jitterMs` to a frame's latency, never letting it
 * overtake the frame before it.
 */
export interface LinkProfile {
  /** One-way delay, ms (default 40). */
  latencyMs: number
  /** Extra one-way delay, uniform in 0..jitterMs, ms (default 10). */
  jitterMs: number
  /** Bytes per (virtual) second each way, frames serialised one after another (default 1 000 000). */
  bandwidthBytesPerSec: number
  /** Probability that one transmission of a frame is lost, in [0, 0.9] (default 0). */
  loss: number
  /** Delay before a lost transmission is sent again, ms (default 200, TCP's usual minimum RTO). */
  retransmitMs: number
}

/** The defaults of {@link LinkProfile}. */
export const DEFAULT_LINK_PROFILE: Readonly<LinkProfile> = Object.freeze({
  latencyMs: 40,
  jitterMs: 10,
  bandwidthBytesPerSec: 1_000_000,
  loss: 0,
  retransmitMs: 200,
})

/** Highest {@link LinkProfile.loss} accepted: beyond it a link mostly retransmits. */
export const MAX_LOSS = 0.9

/**
 * A full profile from defaults and `partial`, checked.
 * @throws SIM_INVALID_INPUT when a field is negative, not finite, a zero bandwidth, or a loss over {@link MAX_LOSS}
 */
export function linkProfile(partial: Partial<LinkProfile> = {}): LinkProfile {
  const profile = { ...DEFAULT_LINK_PROFILE, ...partial }
  for (const [name, value] of Object.entries(profile)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new SimError('SIM_INVALID_INPUT', `link ${name} must be a finite number >= 0`)
    }
  }
  if (profile.bandwidthBytesPerSec <= 0) {
    throw new SimError('SIM_INVALID_INPUT', 'link bandwidthBytesPerSec must be > 0')
  }
  if (profile.loss > MAX_LOSS) {
    throw new SimError('SIM_INVALID_INPUT', `link loss must be at most ${MAX_LOSS}`)
  }
  return profile
}

/** The profile of a link between peers with profiles `a` and `b`: the worse of each field. */
export function combineProfiles(a: LinkProfile, b: LinkProfile): LinkProfile {
  return {
    latencyMs: Math.max(a.latencyMs, b.latencyMs),
    jitterMs: Math.max(a.jitterMs, b.jitterMs),
    bandwidthBytesPerSec: Math.min(a.bandwidthBytesPerSec, b.bandwidthBytesPerSec),
    loss: Math.max(a.loss, b.loss),
    retransmitMs: Math.max(a.retransmitMs, b.retransmitMs),
  }
}
