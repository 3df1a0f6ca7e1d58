/** The one real timer of a store: armed for the earliest expiry or mempool deadline. */
import { type Clock, MAX_TIMER_MS } from './clock.ts'

export class ExpiryTimer {
  readonly #clock: Clock
  readonly #fire: () => void
  #handle: unknown
  #armedAt = Number.POSITIVE_INFINITY

  /** `fire` runs when the time armed for comes (the store's gc). */
  constructor(clock: Clock, fire: () => void) {
    this.#clock = clock
    this.#fire = fire
  }

  /** Arms the timer for `at` (ms since the epoch; Infinity: none), replacing the armed one. */
  arm(at: number): void {
    if (at === this.#armedAt && this.#handle !== undefined) return
    this.stop()
    this.#armedAt = at
    if (at === Number.POSITIVE_INFINITY) return
    const delayMs = Math.min(MAX_TIMER_MS, Math.max(0, at - this.#clock.now()))
    this.#handle = this.#clock.setTimeout(() => {
      this.#handle = undefined
      this.#armedAt = Number.POSITIVE_INFINITY
      this.#fire()
    }, delayMs)
  }

  /** Disarms it. */
  stop(): void {
    if (this.#handle !== undefined) this.#clock.clearTimeout(this.#handle)
    this.#handle = undefined
  }
}
