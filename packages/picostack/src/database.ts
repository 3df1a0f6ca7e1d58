import type { LevelDatabase } from '@picostack/repo'
import { Level } from 'level'
import { MemoryLevel } from 'memory-level'

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
