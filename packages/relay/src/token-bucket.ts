/** A token bucket refilled continuously: `capacity` at most, `ratePerSec` per second. */
export class TokenBucket {
  #tokens: number
  #at = Date.now()

  /**
   * @param capacity - most tokens it holds (the burst); it starts full
   * @param ratePerSec - tokens refilled per second
   */
  constructor(
    private readonly capacity: number,
    private readonly ratePerSec: number,
  ) {
    this.#tokens = capacity
  }

  /** Takes `amount` tokens; false (taking none) when there are not that many. */
  take(amount: number): boolean {
    const now = Date.now()
    this.#tokens = Math.min(
      this.capacity,
      this.#tokens + ((now - this.#at) * this.ratePerSec) / 1000,
    )
    this.#at = now
    if (this.#tokens < amount) return false
    this.#tokens -= amount
    return true
  }
}
