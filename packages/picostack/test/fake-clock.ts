import type { Clock } from '../src/index.ts'

interface Timer {
  at: number
  fn: () => void
}

/** Lets promise jobs and I/O callbacks queued so far run (one macrotask turn). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** A clock that moves only when told: `advance(ms)` runs the timers that fall due, in order. */
export class FakeClock implements Clock {
  #now: number
  #next = 1
  readonly #timers = new Map<number, Timer>()

  constructor(start = 1_700_000_000_000) {
    this.#now = start
  }

  now(): number {
    return this.#now
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const handle = this.#next++
    this.#timers.set(handle, { at: this.#now + Math.max(0, ms), fn })
    return handle
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number)
  }

  /** Timers armed and not fired or cleared. */
  get pending(): number {
    return this.#timers.size
  }

  /**
   * Moves time forward by `ms`, firing each timer at its time (earliest first), and lets
   * what the timers start settle after each one.
   */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms
    for (;;) {
      let due: [number, Timer] | undefined
      for (const entry of this.#timers) if (!due || entry[1].at < due[1].at) due = entry
      if (!due || due[1].at > end) break
      this.#timers.delete(due[0])
      this.#now = Math.max(this.#now, due[1].at)
      due[1].fn()
      await settle()
    }
    this.#now = end
    await settle()
  }
}
