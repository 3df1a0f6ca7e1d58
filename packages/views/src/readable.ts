/** Called with a view's value: once at subscription, then after each change. */
export type Subscriber<T> = (value: T) => void

/** Stops a subscription. Calling it twice is harmless. */
export type Unsubscribe = () => void

/**
 * The subscribe contract every view follows, and the one Svelte's stores use:
 * `subscribe(fn)` calls `fn` with the current value synchronously, before it returns, then
 * after each change, and returns the function that stops it. `store.on(name, fn)` of
 * `@picostack/store`, Svelte's `readable`/`writable`/`derived`, and every view here fit it.
 */
export interface Subscribable<T> {
  /**
   * Calls `fn` with the current value now and after each change; returns the unsubscribe.
   * `invalidate` (optional, as in Svelte) is called when a new value is on its way.
   */
  subscribe(fn: Subscriber<T>, invalidate?: () => void): Unsubscribe
}

/**
 * A {@link Subscribable} that also tells its current value without subscribing (`value`).
 * Reading `value` of a view nobody subscribes to computes it once (as Svelte's `get`), and
 * returns the same object while its inputs are the same (a stable snapshot, as React's
 * `useSyncExternalStore` needs).
 */
export interface Readable<T> extends Subscribable<T> {
  /** The current value. */
  readonly value: T
}
