/**
 * Where views arm their timers (`settle`, `until`, `next`). The store's and the kernel's
 * `Clock` fit it; inject a fake one in tests to drive time without waiting.
 */
export interface Timer {
  /** Calls `fn` after `ms` milliseconds; returns a handle for {@link Timer.clearTimeout}. */
  setTimeout(fn: () => void, ms: number): unknown
  /** Cancels a pending call made by {@link Timer.setTimeout}. */
  clearTimeout(handle: unknown): void
}

/** The global timers. */
export const systemTimer: Timer = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
}
