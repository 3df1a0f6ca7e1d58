/** Timing helpers shared by the benchmark suites. */

/** One measured figure: `count` operations (or bytes) done in `ms` milliseconds. */
export interface Measurement {
  name: string
  count: number
  ms: number
  /** Operations per second. */
  perSecond: number
}

/**
 * Runs `fn` once (after `warmup` untimed runs) and reports `count / seconds`. `fn` does
 * `count` operations itself, so per-call overhead is not measured.
 */
export async function measure(
  name: string,
  count: number,
  fn: () => unknown | Promise<unknown>,
  { warmup = 1 }: { warmup?: number } = {},
): Promise<Measurement> {
  for (let i = 0; i < warmup; i++) await fn()
  const start = performance.now()
  await fn()
  const ms = performance.now() - start
  return { name, count, ms, perSecond: (count / ms) * 1000 }
}

/** `a / b` as text with two decimals and an `x`. */
export function ratio(a: number, b: number): string {
  return `${(a / b).toFixed(2)}x`
}

/** Prints rows as an aligned table under a title. */
export function printTable(title: string, rows: Record<string, string | number>[]): void {
  console.log(`\n## ${title}\n`)
  if (rows.length === 0) return
  const columns = Object.keys(rows[0]!)
  const cell = (v: string | number) =>
    typeof v === 'number' ? Math.round(v).toLocaleString('en-US') : v
  const widths = columns.map((c) =>
    Math.max(c.length, ...rows.map((r) => String(cell(r[c] ?? '')).length)),
  )
  const line = (values: string[]) => `| ${values.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`
  console.log(line(columns))
  console.log(line(widths.map((w) => '-'.repeat(w))))
  for (const row of rows) console.log(line(columns.map((c) => String(cell(row[c] ?? '')))))
}

/** The median of `values` (the mean of the middle two for an even count); `values` is not changed. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}
