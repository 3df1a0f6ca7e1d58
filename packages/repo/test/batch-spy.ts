/**
 * Wraps a database's `batch` for tests: counts the calls and, when `fail` returns an error
 * for the n-th call (1-based), rejects that call with it instead of writing. `restore()`
 * puts the database's own `batch` back. Shared by the repo and store tests.
 */
// biome-ignore lint/suspicious/noExplicitAny: any level database's batch
export function spyBatches<D extends { batch: (...args: any[]) => any }>(
  db: D,
  fail?: (n: number) => unknown,
): { readonly count: number; restore(): void } {
  const batch = db.batch.bind(db)
  let count = 0
  db.batch = ((...args: Parameters<D['batch']>) => {
    count++
    const error = fail?.(count)
    return error === undefined ? batch(...args) : Promise.reject(error)
  }) as D['batch']
  return {
    get count() {
      return count
    },
    restore() {
      db.batch = batch
    },
  }
}
