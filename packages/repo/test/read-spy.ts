/**
 * Counts a database's point reads (`get` and `getMany` calls) for tests; `restore()` puts
 * the database's own methods back.
 */
type Reads = (...args: never[]) => unknown

export function spyReads<D extends { get: Reads; getMany: Reads }>(
  db: D,
): { readonly count: number; restore(): void } {
  const { get, getMany } = db
  let count = 0
  db.get = ((...args: Parameters<D['get']>) => {
    count++
    return get.apply(db, args)
  }) as D['get']
  db.getMany = ((...args: Parameters<D['getMany']>) => {
    count++
    return getMany.apply(db, args)
  }) as D['getMany']
  return {
    get count() {
      return count
    },
    restore() {
      db.get = get
      db.getMany = getMany
    },
  }
}
