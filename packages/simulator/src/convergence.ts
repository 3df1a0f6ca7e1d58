/** What every live peer holds at one moment of virtual time. */
export interface Sample {
  /** Virtual ms since the start. */
  t: number
  /** Digest of each live peer's state, by peer name. */
  digests: Map<string, string>
}

/** Agreement at one sample. */
export interface ConvergencePoint {
  /** Virtual ms since the start. */
  t: number
  /** Live peers. */
  live: number
  /** Live peers in the largest group holding one state. */
  largestGroup: number
  /** Live peers holding the state most peers hold at the last sample. */
  final: number
}

/** What the samples say about agreement. */
export interface Convergence {
  /** One point per sample, oldest first. */
  points: ConvergencePoint[]
  /** First sample time (virtual ms) from which every live peer holds the same state to the end; `undefined` if they end apart. */
  convergedAtMs: number | undefined
  /** When the last disagreement began (virtual ms): the first sample of the run of disagreeing samples before {@link convergedAtMs}. */
  divergedAtMs: number | undefined
}

/**
 * JSON with object keys sorted, so that equal states written in another key order (a
 * restarted store loads objects in key order, a live one in arrival order) give equal text.
 */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  )
}

/** A 64-bit FNV-1a digest of `text` (UTF-16 code units), 16 hex characters: cheap, not cryptographic. */
export function digest(text: string): string {
  let hi = 0xcbf29ce4
  let lo = 0x84222325
  for (let i = 0; i < text.length; i++) {
    lo ^= text.charCodeAt(i)
    // multiply the 64-bit (hi, lo) by the FNV prime 2^40 + 0x1b3
    const loMul = lo * 0x1b3
    const carry = Math.floor(loMul / 0x1_0000_0000)
    hi = (hi * 0x1b3 + (lo << 8) + carry) >>> 0
    lo = loMul >>> 0
  }
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0')
}

/** Agreement over time, from samples (the last sample is the final state). */
export function convergence(samples: readonly Sample[]): Convergence {
  const last = samples[samples.length - 1]
  const finalDigest = last && mode(last.digests)
  const points = samples.map(({ t, digests }): ConvergencePoint => {
    const counts = new Map<string, number>()
    for (const d of digests.values()) counts.set(d, (counts.get(d) ?? 0) + 1)
    return {
      t,
      live: digests.size,
      largestGroup: Math.max(0, ...counts.values()),
      final: finalDigest === undefined ? 0 : (counts.get(finalDigest) ?? 0),
    }
  })
  const agreed = (i: number) => points[i]!.largestGroup === points[i]!.live
  let from = points.length
  while (from > 0 && agreed(from - 1)) from--
  if (from === points.length) return { points, convergedAtMs: undefined, divergedAtMs: undefined }
  let diverged = from
  while (diverged > 0 && !agreed(diverged - 1)) diverged--
  return {
    points,
    convergedAtMs: points[from]!.t,
    divergedAtMs: diverged < from ? points[diverged]!.t : undefined,
  }
}

function mode(digests: Map<string, string>): string | undefined {
  const counts = new Map<string, number>()
  let best: string | undefined
  let bestCount = 0
  for (const d of digests.values()) {
    const count = (counts.get(d) ?? 0) + 1
    counts.set(d, count)
    if (count > bestCount || (count === bestCount && best !== undefined && d < best)) {
      best = d
      bestCount = count
    }
  }
  return best
}
