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

/**
 * Calls `onRead(keys)` for each run of `db.getSync` calls made in one synchronous stretch
 * (how the repo reads a few keys on the calling thread where one `getMany` would go to the
 * pool: `RepoContext.getMany`), once that stretch ends; `getSync` stays the database's.
 * Returns the way back.
 */
export function groupSyncReads(
  db: { getSync?: Method },
  onRead: (keys: Uint8Array[]) => void,
): () => void {
  const own = db.getSync
  if (!own) return () => {}
  let group: Uint8Array[] | undefined
  db.getSync = (key: Uint8Array, ...rest: unknown[]) => {
    if (!group) {
      const keys: Uint8Array[] = []
      group = keys
      queueMicrotask(() => {
        group = undefined
        onRead(keys)
      })
    }
    group.push(key)
    return own.call(db, key, ...rest)
  }
  return () => {
    db.getSync = own
  }
}

/**
 * Counts a database's point reads: `get` and `getMany` calls, and runs of `getSync` calls
 * made as one read ({@link groupSyncReads}).
 */
export function spyReads<D extends { get: Method; getMany: Method; getSync?: Method }>(db: D): Spy {
  let sync = 0
  const calls = spyCalls(db, ['get', 'getMany'])
  const restoreSync = groupSyncReads(db, () => sync++)
  return {
    get count() {
      return calls.count + sync
    },
    restore() {
      calls.restore()
      restoreSync()
    },
  }
}
