import type { LevelDatabase } from '@picostack/repo'
import { Level } from 'level'
import { MemoryLevel } from 'memory-level'
import { KernelError } from './errors.ts'

/**
 * Turns the kernel's `db` argument into a database: an abstract-level instance is used as
 * is, a string is a `level` location (a classic-level directory in Node, an IndexedDB
 * name in browsers), and nothing gives a fresh memory-level database.
 */
export function openDatabase(db: LevelDatabase | string | undefined): LevelDatabase {
  // Stored as views: no Buffer made per key or value written or read.
  if (db === undefined) {
    return new MemoryLevel({ keyEncoding: 'view', valueEncoding: 'view', storeEncoding: 'view' })
  }
  if (typeof db === 'string') {
    return new Level<Uint8Array, Uint8Array>(db, { keyEncoding: 'view', valueEncoding: 'view' })
  }
  return db
}

/** The parts of an abstract-level database that {@link ensureOpen} reads, when it has them. */
interface Openable {
  open?: () => Promise<void>
  location?: unknown
}

/** The error in `err`'s `cause` chain whose `code` is `code`, if any. */
function findCause(err: unknown, code: string): unknown {
  for (let at = err, depth = 0; at instanceof Error && depth < 8; depth++) {
    if ((at as { code?: unknown }).code === code) return at
    at = at.cause
  }
  return undefined
}

/**
 * Opens the database now (abstract-level opens lazily, and a failed lazy open surfaces
 * later as an unrelated iterator error), so a database held by another kernel or process
 * fails here with its own code. A database without `open()` (any {@link LevelDatabase})
 * is taken as open.
 *
 * classic-level holds a lock file in its folder (`LOCK`) for as long as it is open, and
 * refuses a second open of the folder in this process or in another one (`LEVEL_LOCKED`).
 * @throws KERNEL_DB_LOCKED when another kernel or process has the database open (its
 *   location in the message, level's `LEVEL_LOCKED` in `cause`); other open failures are
 *   rethrown as they are
 */
export async function ensureOpen(db: LevelDatabase): Promise<void> {
  const { open, location } = db as LevelDatabase & Openable
  if (typeof open !== 'function') return
  try {
    await open.call(db)
  } catch (err) {
    const locked = findCause(err, 'LEVEL_LOCKED')
    if (!locked) throw err
    const where = typeof location === 'string' ? location : 'the database'
    throw new KernelError(
      'KERNEL_DB_LOCKED',
      `${where} is open in another kernel or process (one kernel per database): close that one first, or give this kernel another folder`,
      { cause: locked },
    )
  }
}
