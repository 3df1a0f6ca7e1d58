/** Targets of the sync bench (issue 14): each figure beside its target, met or not. */

/** One figure checked against its target. */
export interface Verdict {
  case: string
  figure: string
  target: string
  result: 'met' | 'NOT MET'
}

/**
 * `value` against `limit`: `at most` (value <= limit) or `at least` (value >= limit).
 * `format` prints both numbers the same way.
 */
export function verdict(
  name: string,
  value: number,
  bound: 'at most' | 'at least',
  limit: number,
  format: (n: number) => string,
): Verdict {
  const met = bound === 'at most' ? value <= limit : value >= limit
  return {
    case: name,
    figure: format(value),
    target: `${bound === 'at most' ? '<=' : '>='} ${format(limit)}`,
    result: met ? 'met' : 'NOT MET',
  }
}

/** Bytes as B / KB / MB (1 KB = 1000 B). */
export function formatBytes(bytes: number): string {
  if (bytes < 10_000) return `${Math.round(bytes).toLocaleString('en-US')} B`
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(1)} KB`
  return `${(bytes / 1e6).toFixed(2)} MB`
}

export const formatMs = (ms: number) => `${ms.toFixed(1)} ms`
export const formatRatio = (r: number) => `${r.toFixed(2)}x`

/** A count with thousands separators (`100,000`). */
export const formatCount = (n: number) => n.toLocaleString('en-US')
