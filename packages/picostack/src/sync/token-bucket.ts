/**
 * A token bucket: holds up to `capacity` tokens, refilled at `ratePerSec`; each message
 * takes one. Time comes from `now()` (ms), so tests can drive it.
 */
export class TokenBucket {
  #tokens: number
  #at: number

  constructor(
    readonly capacity: number,
    readonly ratePerSec: number,
    private readonly now: () => number,
  ) {
    this.#tokens = capacity
    this.#at = now()
  }

  #refill(): void {
    const now = this.now()
    this.#tokens = Math.min(
      this.capacity,
      this.#tokens + ((now - this.#at) * this.ratePerSec) / 1000,
    )
    this.#at = now
  }

  /** Takes a token if one is left; false when the bucket is empty. */
  take(): boolean {
    this.#refill()
    if (this.#tokens < 1) return false
    this.#tokens -= 1
    return true
  }

  /** Milliseconds until a token is available (0 when one is). */
  waitMs(): number {
    this.#refill()
    return this.#tokens >= 1 ? 0 : Math.ceil(((1 - this.#tokens) * 1000) / this.ratePerSec)
  }
}
