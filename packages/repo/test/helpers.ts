/** Test helpers shared by the repo tests (no Node imports: the suite also runs in browsers). */
import { Feed, type SignPair, signPair, utf8 } from '@picostack/feed'
import type { LevelDatabase } from '../src/index.ts'
import type { ChainRecord } from '../src/records.ts'

export type Db = LevelDatabase

/** A fresh key pair per name, stable within one test file run. */
const pairs = new Map<string, SignPair>()
export function pair(name: string): SignPair {
  let found = pairs.get(name)
  if (!found) pairs.set(name, (found = signPair()))
  return found
}

/** A feed of `bodies` signed by `author`, appended to `base` (copied) when given. */
export function chain(author: string, bodies: string[], base?: Feed): Feed {
  const feed = base ? base.clone() : new Feed()
  for (const body of bodies) feed.append(body, pair(author).sk)
  return feed
}

/** `n` bodies `${prefix}0`, `${prefix}1`... */
export function bodies(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${i}`)
}

/** Number of keys in the whole database. */
export async function keyCount(db: Db): Promise<number> {
  let n = 0
  for await (const _ of db.keys({ keyEncoding: 'view' })) n++
  return n
}

/** Every key and value of the database as hex pairs, ascending. */
export async function dump(db: Db): Promise<string[]> {
  const out: string[] = []
  for await (const [key, value] of db.iterator({ keyEncoding: 'view', valueEncoding: 'view' })) {
    out.push(`${hex(key)}=${hex(value)}`)
  }
  return out
}

export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}

export { utf8 }

/**
 * A chain record for range-index tests: chain `chainId` (64 B) at `height`, its head id
 * 64 bytes of `height` (mod 256), the same block first, chain number `height`.
 */
export function chainRecord(chainId: Uint8Array, height: number, claimed = false): ChainRecord {
  const headId = new Uint8Array(64).fill(height)
  return {
    chainId,
    author: new Uint8Array(32),
    headId,
    headHeight: height,
    firstId: headId,
    firstHeight: 1,
    chainNo: height,
    heightKnown: true,
    claimed,
  }
}
