import { sha256 } from '@noble/hashes/sha2.js'
import { toHex } from '@picostack/kernel'

/** One line of the trace, as parsed back from {@link Trace.ndjson}. */
export interface TraceLine {
  /** Virtual ms since the simulation started. */
  t: number
  /**
   * What happened: `launch`, `up`, `crash`, `leave`, `connect`, `disconnect`, `frame`
   * (`from`, `to`, `bytes`, and `startMs` / `endMs` / `arriveMs` of its last transmission,
   * virtual ms since the start, and `retransmits`), `state` (a peer's state `digest`
   * changed), `signal`, `partition`, `heal`.
   */
  ev: string
  /** The event's fields (peer names, bytes, digests...). */
  [field: string]: unknown
}

const encoder = new TextEncoder()

/**
 * The simulation's record: one JSON object per line (ndjson), in event order, and a
 * SHA-256 over all of them. Nothing of the wall clock goes in, so the same seed and
 * scenario give the same hash.
 */
export class Trace {
  readonly #lines: string[] = []
  readonly #hash = sha256.create()
  #count = 0

  /** @param keepLines - keep the lines for {@link ndjson} (the hash covers them either way) */
  constructor(readonly keepLines = true) {}

  /** Appends `{ t, ev, ...fields }`. */
  record(t: number, ev: string, fields: Record<string, unknown>): void {
    const line = JSON.stringify({ t, ev, ...fields })
    this.#hash.update(encoder.encode(`${line}\n`))
    this.#count++
    if (this.keepLines) this.#lines.push(line)
  }

  /** Lines recorded. */
  get length(): number {
    return this.#count
  }

  /** SHA-256 of every line so far (each followed by `\n`), hex (64 characters). */
  get hash(): string {
    return toHex(this.#hash.clone().digest())
  }

  /** The kept lines as ndjson (empty when `keepLines` is off). */
  ndjson(): string {
    return this.#lines.length === 0 ? '' : `${this.#lines.join('\n')}\n`
  }

  /** The kept lines, parsed. */
  lines(): TraceLine[] {
    return this.#lines.map((line) => JSON.parse(line) as TraceLine)
  }
}
