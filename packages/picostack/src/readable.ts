/** A Svelte-compatible readable store: `subscribe(fn)` calls `fn` now and on every change. */
export interface Readable<T> {
  /** Calls `fn` with the current value at once and after each change; returns the unsubscribe. */
  subscribe(fn: (value: T) => void): () => void
  /** The current value. */
  readonly value: T
}

/** A {@link Readable} whose owner sets the value. */
export class Writable<T> implements Readable<T> {
  #value: T
  readonly #subscribers = new Set<(value: T) => void>()

  constructor(value: T) {
    this.#value = value
  }

  get value(): T {
    return this.#value
  }

  subscribe(fn: (value: T) => void): () => void {
    this.#subscribers.add(fn)
    fn(this.#value)
    return () => {
      this.#subscribers.delete(fn)
    }
  }

  /** Sets the value and notifies every subscriber (a throwing subscriber is skipped). */
  set(value: T): void {
    this.#value = value
    for (const fn of [...this.#subscribers]) {
      try {
        fn(value)
      } catch {
        // A subscriber's failure is its own.
      }
    }
  }
}
