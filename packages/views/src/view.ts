import type { Readable, Subscribable, Subscriber, Unsubscribe } from './readable.ts'

/** What a view's `start` function gets: `set` a new value. */
export type SetValue<T> = (value: T) => void

/**
 * What a view's `start` function gets besides `set`: announces that a new value is on its
 * way (pass it as the second argument of an input's `subscribe`), so that views combining
 * this one wait for it; the next `set` ends the announcement, equal value or not.
 */
export type Invalidate = () => void

/**
 * Starts a view's source when its first subscriber comes: subscribes to inputs, calls
 * `set` (synchronously for the first value, if it has one), and returns what stops it when
 * the last subscriber leaves.
 */
export type StartView<T> = (set: SetValue<T>, invalidate: Invalidate) => Unsubscribe | undefined

/** One subscription: what runs with each value, and what hears a value is coming. */
interface Entry<T> {
  run: Subscriber<T>
  invalidate: (() => void) | undefined
}

/**
 * Deliveries waiting to run, in order, for every view at once (as Svelte's stores do): a
 * `set` made while subscribers run is delivered after the ones already queued, so every
 * subscriber sees values in the order they were set and a derived view over a diamond
 * (`combine([a, map(a, f)])`) waits for all its inputs before computing once.
 */
const deliveries: (() => void)[] = []

/**
 * The one implementation of the subscribe contract behind every view: subscribers, a
 * current value, and a source started on the first subscriber and stopped after the last
 * (so an unused view holds nothing, and unsubscribing everything releases every input).
 *
 * Notifies when the value changes (`Object.is`); a subscriber that throws is skipped, the
 * others still run. `subscribe(run, invalidate)` takes Svelte's optional second callback,
 * called before a new value is queued for `run`; combined views use it to compute once
 * per change.
 */
export class View<T> implements Readable<T> {
  #value: T
  readonly #start: StartView<T> | undefined
  readonly #subscribers = new Set<Entry<T>>()
  #stop: Unsubscribe | undefined
  #active = false
  /** Subscribers were told a value is coming and not told since. */
  #invalidated = false

  /**
   * @param initial - the value before the source sets one (and of a view without a source)
   * @param start - starts the source on the first subscriber; returns its stop function
   */
  constructor(initial: T, start?: StartView<T>) {
    this.#value = initial
    this.#start = start
  }

  /** Subscribers now (0 when nobody listens: the source is stopped). */
  get subscriberCount(): number {
    return this.#subscribers.size
  }

  /**
   * Starts the source (the constructor's `start`); subclasses with a source of their own
   * override it.
   */
  protected start(set: SetValue<T>, invalidate: Invalidate): Unsubscribe | undefined {
    return this.#start?.(set, invalidate)
  }

  /** Whether the source runs (someone subscribes). */
  protected get active(): boolean {
    return this.#active
  }

  /** The value held now, without starting the source. */
  protected get current(): T {
    return this.#value
  }

  /**
   * The current value. Nobody subscribed: the source starts and stops once to compute it.
   */
  get value(): T {
    if (this.#active) return this.#value
    const stop = this.subscribe(() => {})
    stop()
    return this.#value
  }

  subscribe(fn: Subscriber<T>, invalidate?: () => void): Unsubscribe {
    const entry: Entry<T> = { run: fn, invalidate }
    if (!this.#active) {
      this.#active = true
      this.#stop =
        this.start(
          (value) => this.set(value),
          () => this.#invalidate(),
        ) ?? undefined
    }
    this.#subscribers.add(entry)
    call(fn, this.#value)
    return () => {
      if (!this.#subscribers.delete(entry)) return
      if (this.#subscribers.size > 0) return
      this.#active = false
      const stop = this.#stop
      this.#stop = undefined
      stop?.()
    }
  }

  #invalidate(): void {
    if (this.#invalidated) return
    this.#invalidated = true
    for (const entry of this.#subscribers) entry.invalidate?.()
  }

  /**
   * Sets the value and notifies every subscriber, unless it is the same (`Object.is`):
   * then only subscribers told a value was coming (`invalidate`) hear it again, so that
   * they stop waiting.
   */
  protected set(value: T): void {
    const announced = this.#invalidated
    this.#invalidated = false
    const same = Object.is(this.#value, value)
    if (same && !announced) return
    this.#value = value
    const idle = deliveries.length === 0
    for (const entry of this.#subscribers) {
      if (same && !entry.invalidate) continue
      if (!announced) entry.invalidate?.()
      deliveries.push(() => {
        if (this.#subscribers.has(entry)) call(entry.run, value)
      })
    }
    if (!idle) return
    for (let i = 0; i < deliveries.length; i++) deliveries[i]!()
    deliveries.length = 0
  }
}

function call<T>(fn: Subscriber<T>, value: T): void {
  try {
    fn(value)
  } catch {
    // A subscriber's failure is its own; the others still get the value.
  }
}

/**
 * A {@link Readable} whose owner sets the value (`set`, `update`). The kernel's own state
 * (connected peers, direct links) is one of these.
 */
export class Writable<T> extends View<T> {
  /** @param value - the initial value */
  constructor(value: T) {
    super(value)
  }

  /** Sets the value and notifies every subscriber (a throwing subscriber is skipped). */
  override set(value: T): void {
    super.set(value)
  }

  /** Sets the value to `fn(current)`. */
  update(fn: (value: T) => T): void {
    super.set(fn(this.value))
  }
}

/**
 * A read-only view of a source: `start(set)` runs when the first subscriber comes and its
 * returned function when the last leaves (Svelte's `readable`).
 * @param initial - the value until the source sets one
 * @param start - starts the source; returns what stops it
 */
export function readable<T>(initial: T, start: StartView<T>): Readable<T> {
  return new View(initial, start)
}

/**
 * Wraps any {@link Subscribable} (a Svelte store, `{ subscribe: (fn) => store.on(name, fn) }`)
 * as a {@link Readable} with `value`, subscribing to it only while the view has subscribers.
 * @param source - a store that calls its subscriber synchronously on subscription
 */
export function fromSubscribable<T>(source: Subscribable<T>): Readable<T> {
  if (source instanceof View) return source
  return new View<T>(undefined as T, (set) => source.subscribe(set))
}
