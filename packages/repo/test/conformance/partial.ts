/** The repo conformance suite: partial chains (registered by ../conformance.ts). */
import { type Feed, SIG_BYTES } from '@picostack/feed'
import { beforeEach, describe, expect, it } from 'vitest'
import { Repo } from '../../src/index.ts'
import { bodies, chain, type Db } from '../helpers.ts'
import { codeOf, ids, type SuiteState, same } from './shared.ts'

/** Registers the "partial chains" tests on the suite state `s`. */
export function partialChains(s: SuiteState): void {
  describe('partial chains', () => {
    let db: Db
    let repo: Repo
    beforeEach(() => {
      ;({ db, repo } = s)
    })
    it('starts a partial chain only with a chain id, and only once', async () => {
      const feed = chain('alice', bodies('a', 6))
      const tail = feed.slice(3)
      expect(await repo.merge(tail)).toBe(0)
      const chainId = feed.first!.sig
      expect(await repo.merge(tail, undefined, { chainId, height: 4 })).toBe(3)
      expect(await repo.summary(chainId)).toEqual({
        chainId,
        author: feed.first!.key,
        headId: feed.last!.sig,
        height: 6,
        firstId: feed.block(3)!.sig,
        length: 3,
        heightKnown: true,
        proven: false,
      })
      // The missing middle is never prepended, and no other claim replaces the first one.
      expect(await repo.merge(feed.slice(1), undefined, { chainId })).toBe(0)
      const other = chain('bob', bodies('b', 3)).slice(1)
      expect(await repo.merge(other, undefined, { chainId })).toBe(0)
      // The genuine genesis replaces the claim: the whole chain is written from it.
      expect(await repo.merge(feed)).toBe(6)
      expect(await repo.summary(chainId)).toMatchObject({ length: 6, height: 6, proven: true })
      expect(await repo.merge(feed)).toBe(0)
      const unknown = chain('carol', bodies('c', 3))
      const id = unknown.first!.sig
      expect(await repo.writeBlock(unknown.block(2)!, { chainId: id })).toBe(true)
      expect(await repo.summary(id)).toMatchObject({ height: 1, length: 1, heightKnown: false })
      expect(await codeOf(repo.merge(tail, undefined, { height: 0 }))).toBe('REPO_INVALID_INPUT')
      expect(await codeOf(repo.merge(tail, undefined, { chainId: new Uint8Array(3) }))).toBe(
        'REPO_INVALID_INPUT',
      )
    })
    it('a squatted chain id gives way to the genuine genesis, at any claimed height', async () => {
      const genuine = chain('alice', bodies('a', 3))
      const chainId = genuine.first!.sig
      for (const height of [2, 3, 1_000, 4_000_000_000]) {
        // Mallory signs a block whose parent nobody holds and names Alice's chain id.
        const forged = chain('mallory', [`m${height}`, `n${height}`]).slice(1)
        expect(await repo.merge(forged, undefined, { chainId, height })).toBe(1)
        expect(await repo.summary(chainId)).toMatchObject({ height, proven: false })
        expect(await repo.merge(genuine)).toBe(3)
        const summary = await repo.summary(chainId)
        expect(summary).toMatchObject({ height: 3, length: 3, proven: true })
        expect(same(summary!.author, genuine.first!.key)).toBe(true)
        expect(await repo.hasBlock(forged.first!.sig)).toBe(false)
        expect(ids(await repo.resolveFeed(chainId))).toEqual(ids(genuine))
        expect(await repo.rollback(chainId)).toHaveLength(3)
      }
      // A block with a parent is never at height 1: that claim is no height at all.
      const liar = chain('mallory', ['x', 'y']).slice(1)
      expect(await repo.merge(liar, undefined, { chainId, height: 1 })).toBe(1)
      expect(await repo.summary(chainId)).toMatchObject({ heightKnown: false, proven: false })
      expect(await repo.merge(genuine)).toBe(3)
      expect(await repo.summary(chainId)).toMatchObject({ heightKnown: true, proven: true })
    })
    it("a claim under a missing parent's id does not make the blocks after that parent look evicted", async () => {
      // Two forks after the same missing genesis: one sender claims the genuine chain id
      // (the parent's), another a different id. Both partial chains are kept in either
      // order: what the repo holds does not depend on which claim came first.
      for (const order of [0, 1]) {
        const feed = chain('alice', bodies(`a${order}-`, 2))
        const genuine = feed.first!.sig
        const fork = chain('alice', [`b${order}`], feed.slice(0, 1)).slice(1)
        const other = new Uint8Array(SIG_BYTES).fill(7 + order)
        const claims: [Feed, Uint8Array][] = [
          [feed.slice(1), genuine],
          [fork, other],
        ]
        if (order === 1) claims.reverse()
        for (const [patch, chainId] of claims) {
          expect(await repo.merge(patch, undefined, { chainId })).toBe(1)
        }
        const heads = [await repo.summary(genuine), await repo.summary(other)]
        expect(heads.map((summary) => summary?.proven)).toEqual([false, false])
        expect(same(heads[0]?.headId, feed.last!.sig)).toBe(true)
        expect(same(heads[1]?.headId, fork.last!.sig)).toBe(true)
      }
    })
    it('never stores a block twice when the parent of a partial start arrives later', async () => {
      const feed = chain('alice', bodies('a', 4))
      const wrongId = new Uint8Array(SIG_BYTES).fill(9)
      expect(await repo.writeBlock(feed.block(2)!, { chainId: wrongId })).toBe(true)
      // A second Repo on the same database finds the partial start on disk.
      const second = new Repo(db)
      // a0 and a1 start the real chain; a2 is already held; a3 follows a2 where it is.
      expect(await second.merge(feed)).toBe(3)
      expect(await second.summary(feed.first!.sig)).toMatchObject({ length: 2 })
      expect(await second.summary(wrongId)).toMatchObject({ length: 2, heightKnown: false })
      expect(await second.rollback(wrongId)).toHaveLength(2)
    })
  })
}
