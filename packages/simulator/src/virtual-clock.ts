import type { Clock } from '@picostack/kernel'
import type { EventQueue, SimEvent } from './event-queue.ts'

/** Default start of virtual time: 2025-01-01T00:00:00Z, ms since the epoch. */
export const DEFAULT_START_MS = Date.UTC(2025, 0, 1)

function isEvent(handle: unknown): handle is SimEvent {
  return typeof handle === 'object' && handle !== null && 'cancelled' in handle
}

/**
 * Virtual time: `now()` is the time of the event being run, and `setTimeout` puts a call on
 * the simulation's event queue instead of the system's timers. It implements the store's
 * `Clock` (`packages/store/src/clock.ts`), which the kernel's `clock` option takes, so one
 * clock drives block dates, expiry timers, every sync timer and the links.
 */
export class VirtualClock implements Clock {
  #now: number

  /**
   * @param queue - where timers go
   * @param startMs - virtual time at the start, ms since the epoch
   */
  constructor(
    private readonly queue: EventQueue,
    startMs: number,
  ) {
    this.#now = startMs
  }

  /** Virtual ms since the epoch. */
  now(): number {
    return this.#now
  }

  /** Moves time to `timeMs` (the simulator does, before it runs the event due then). */
  advanceTo(timeMs: number): void {
    if (timeMs > this.#now) this.#now = timeMs
  }

  /** Runs `fn` when virtual time reaches now + `ms` (a negative or NaN delay is 0). */
  setTimeout(fn: () => unknown, ms: number): SimEvent {
    return this.queue.push(this.#now + Math.max(0, ms || 0), fn)
  }

  /** Cancels a pending call; a handle of another clock, or `undefined`, is ignored. */
  clearTimeout(handle: unknown): void {
    if (isEvent(handle)) handle.cancelled = true
  }

  /** A view of this clock whose pending timers can all be cancelled at once (a crash). */
  scope(): ScopedClock {
    return new ScopedClock(this)
  }
}

/** A {@link VirtualClock} view that remembers its pending timers, for {@link cancelAll}. */
export class ScopedClock implements Clock {
  readonly #pending = new Set<SimEvent>()

  /** @param clock - the simulation's clock */
  constructor(private readonly clock: VirtualClock) {}

  /** Virtual ms since the epoch. */
  now(): number {
    return this.clock.now()
  }

  /** As {@link VirtualClock.setTimeout}; remembered until it runs or is cleared. */
  setTimeout(fn: () => unknown, ms: number): SimEvent {
    const event = this.clock.setTimeout(() => {
      this.#pending.delete(event)
      return fn()
    }, ms)
    this.#pending.add(event)
    return event
  }

  /** As {@link VirtualClock.clearTimeout}. */
  clearTimeout(handle: unknown): void {
    if (isEvent(handle)) this.#pending.delete(handle)
    this.clock.clearTimeout(handle)
  }

  /** Cancels every pending timer of this view. */
  cancelAll(): void {
    for (const event of this.#pending) event.cancelled = true
    this.#pending.clear()
  }
}
