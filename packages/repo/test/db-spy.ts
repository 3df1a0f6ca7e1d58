/**
 * Spies on a database's methods for tests: counts the calls and, when `fail` returns an
 * error for the n-th call (1-based), rejects that call with it instead of running it.
 * `restore()` puts the database's own methods back. Shared by the repo and store tests.
 */
// biome-ignore lint/suspicious/noExplicitAny: any level database's methods
type Method = (...args: any[]) => any

/** A spy's view: calls so far (of all the spied methods), and the way back. */
export interface Spy {
  readonly count: number
  restore(): void
}

function spyCalls<D, K extends keyof D>(
  db: D,
  names: readonly K[],
  fail?: (n: number) => unknown,
): Spy {
  const own = names.map((name) => [name, db[name]] as const)
  let count = 0
  for (const [name, method] of own) {
    db[name] = ((...args: unknown[]) => {
      count++
      const error = fail?.(count)
      return error === undefined ? (method as Method).apply(db, args) : Promise.reject(error)
    }) as D[K]
  }
  return {
    get count() {
      return count
    },
    restore() {
      for (const [name, method] of own) db[name] = method
    },
  }
}

/** Counts `db.batch` calls; the n-th fails with `fail(n)` when that returns an error. */
export function spyBatches<D extends { batch: Method }>(db: D, fail?: (n: number) => unknown): Spy {
  return spyCalls(db, ['batch'], fail)
}

/** Counts a database's point reads (`get` and `getMany` calls). */
export function spyReads<D extends { get: Method; getMany: Method }>(db: D): Spy {
  return spyCalls(db, ['get', 'getMany'])
}
