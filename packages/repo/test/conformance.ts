/**
 * The repo conformance suite, written once and run against every abstract-level backend
 * (memory-level, classic-level, browser-level in a browser). No Node imports here: the
 * Node-specific files pass the database factories. One file per concept in
 * `conformance/`; each registers its tests on the shared per-test state.
 */
import { afterEach, beforeEach, describe, expect } from 'vitest'
import { Repo } from '../src/index.ts'
import { chainsAndAuthors } from './conformance/chains.ts'
import { closeAndReopen } from './conformance/close.ts'
import { forgetting } from './conformance/forgetting.ts'
import { reconciliationIndex } from './conformance/index.ts'
import { keyLayout } from './conformance/layout.ts'
import { partialChains } from './conformance/partial.ts'
import { registry } from './conformance/registry.ts'
import type { DbFactory, SuiteState } from './conformance/shared.ts'
import { writeAndRead } from './conformance/write-read.ts'
import { integrityProblems } from './integrity.ts'

export type { DbFactory } from './conformance/shared.ts'

/** Registers the conformance tests for one backend. */
export function conformance(factory: DbFactory): void {
  describe(`repo conformance: ${factory.name}`, () => {
    const s = { factory } as SuiteState

    beforeEach(async () => {
      s.db = await factory.open()
      s.repo = new Repo(s.db)
    })

    afterEach(async () => {
      if (s.db.status === 'open') expect(await integrityProblems(s.db)).toEqual([])
      await s.repo.close()
    })

    writeAndRead(s)
    chainsAndAuthors(s)
    forgetting(s)
    keyLayout(s)
    partialChains(s)
    reconciliationIndex(s)
    registry(s)
    closeAndReopen(s)
  })
}
