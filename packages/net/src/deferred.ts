/** A promise with its resolve and reject functions, for signals settled from elsewhere. */
export interface Deferred<T> {
  promise: Promise<T>
  resolve(value: T): void
  reject(err: Error): void
}

/**
 * A new {@link Deferred}.
 * @param quiet - mark the promise handled, so a rejection nobody awaits is not reported as
 *   unhandled (for signals that may never be awaited)
 */
export function deferred<T>(quiet = false): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (err: Error) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  if (quiet) promise.catch(() => {})
  return { promise, resolve, reject }
}
