/**
 * Where the store reads the time and arms its one timer. Inject a fake one in tests to
 * drive expiry without waiting.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number
  /** Calls `fn` after `ms` milliseconds; returns a handle for {@link Clock.clearTimeout}. */
  setTimeout(fn: () => void, ms: number): unknown
  /** Cancels a pending call made by {@link Clock.setTimeout}. */
  clearTimeout(handle: unknown): void
}

/** The real clock: `Date.now()` and the global timers (unref'd in Node). */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const handle = globalThis.setTimeout(fn, ms) as unknown as { unref?: () => void }
    handle.unref?.()
    return handle
  },
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
}

/** Longest delay a JavaScript timer accepts (~24.8 days); longer waits re-arm. */
export const MAX_TIMER_MS = 0x7fff_ffff
