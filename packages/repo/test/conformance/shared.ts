/** What the repo conformance suite's sections share: the per-test state and small helpers. */
import { type Block, bytesEqual, type Feed, type PicoError, toHex } from '@picostack/feed'
import { expect } from 'vitest'
import { type MergeStrategy, type Repo, RepoError } from '../../src/index.ts'
import type { Db } from '../helpers.ts'

/** Opens databases for the suite: a fresh, empty one per test; `reopen` the last one from storage. */
export interface DbFactory {
  name: string
  open(): Promise<Db>
  /** Opens the database of the latest `open()` again, after the repo on it was closed. */
  reopen?(): Promise<Db>
}

/**
 * The database and repo of the running test (set before each test by ../conformance.ts;
 * a test that reopens the database puts the new ones here, so they are checked and closed).
 */
export interface SuiteState {
  readonly factory: DbFactory
  db: Db
  repo: Repo
}

/** A merge strategy that takes every fork and foreign append. */
export const accept: MergeStrategy = () => true

/** The RepoError code `promise` rejects with, or `undefined` when it resolves. */
export async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise
  } catch (err) {
    expect(err).toBeInstanceOf(RepoError)
    return (err as PicoError).code
  }
  return undefined
}

/** True when both are set and hold the same bytes. */
export function same(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return a !== undefined && b !== undefined && bytesEqual(a, b)
}

/** Hex of every block of a feed, in order. */
export function ids(feed: Feed | undefined): string[] {
  return feed ? feed.blocks.map((b) => toHex(b.sig)) : []
}

/** The nibbles of a hex string. */
export function nibblesOfHex(hex: string): number[] {
  return [...hex].map((h) => Number.parseInt(h, 16))
}

/** Hex of the ids of `blocks`, in order. */
export function idsOf(blocks: readonly Block[]): string[] {
  return blocks.map((b) => toHex(b.sig))
}
