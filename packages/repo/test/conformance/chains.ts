/** The repo conformance suite: chains, heads and authors (registered by ../conformance.ts). */
import { toHex } from '@picostack/feed'
import { beforeEach, describe, expect, it } from 'vitest'
import { type MergeStrategy, Repo } from '../../src/index.ts'
import { bodies, chain, type Db, keyCount, pair } from '../helpers.ts'
import { accept, ids, type SuiteState, same } from './shared.ts'

/** Registers the "chains, heads and authors" tests on the suite state `s`. */
export function chainsAndAuthors(s: SuiteState): void {
  describe('chains, heads and authors', () => {
    let db: Db
    let repo: Repo
    beforeEach(() => {
      ;({ db, repo } = s)
    })
    it('keeps several authors and chains apart, with summaries', async () => {
      const alice = chain('alice', bodies('a', 3))
      const bob = chain('bob', bodies('b', 2))
      await repo.merge(alice)
      await repo.merge(bob)
      expect(same(await repo.headOf(pair('alice').pk), alice.last!.sig)).toBe(true)
      expect(same(await repo.headOf(pair('bob').pk), bob.last!.sig)).toBe(true)
      expect(same(await repo.latestOf(pair('bob').pk), bob.last!.sig)).toBe(true)
      const feeds = await repo.listFeeds()
      expect(feeds.map((s) => toHex(s.chainId))).toEqual(
        [alice, bob].map((f) => toHex(f.first!.sig)).sort(),
      )
      const summary = await repo.summary(alice.first!.sig)
      expect(summary).toEqual({
        chainId: alice.first!.sig,
        author: alice.first!.key,
        headId: alice.last!.sig,
        height: 3,
        firstId: alice.first!.sig,
        length: 3,
        heightKnown: true,
        proven: true,
      })
      expect((await repo.listHeads()).map(toHex).sort()).toEqual(
        [alice, bob].map((f) => toHex(f.last!.sig)).sort(),
      )
    })

    it('heads follow the newest owned chain and latest follows the newest block', async () => {
      const first = chain('alice', bodies('first', 2))
      const second = chain('alice', bodies('second', 2))
      await repo.merge(first)
      await repo.merge(second)
      expect(same(await repo.headOf(pair('alice').pk), second.last!.sig)).toBe(true)
      expect(same(await repo.latestOf(pair('alice').pk), second.last!.sig)).toBe(true)
      const extended = chain('alice', ['first2'], first)
      await repo.merge(extended)
      expect(same(await repo.headOf(pair('alice').pk), second.last!.sig)).toBe(true)
      expect(same(await repo.latestOf(pair('alice').pk), extended.last!.sig)).toBe(true)
      // Remove the newest chain: head falls back to the older one.
      await repo.rollback(second.first!.sig)
      expect(same(await repo.headOf(pair('alice').pk), extended.last!.sig)).toBe(true)
      expect(ids(await repo.loadHead(extended.first!.key!))).toEqual(ids(extended)) // key as bytes
    })

    it('refuses foreign appends unless the strategy accepts them', async () => {
      const alice = chain('alice', bodies('a', 2))
      const withBob = chain('bob', ['b0', 'b1'], alice)
      expect(await repo.merge(withBob)).toBe(2) // stops at bob's first block
      expect(await repo.hasBlock(withBob.block(2)!.sig)).toBe(false)
      const seen: string[] = []
      const strategy: MergeStrategy = async (block, r) => {
        expect(r).toBe(repo)
        // Everything before the block is already written when the strategy is asked.
        expect(await r.hasBlock(block.psig)).toBe(true)
        seen.push(toHex(block.sig))
        return true
      }
      expect(await repo.merge(withBob, strategy)).toBe(2)
      expect(seen).toEqual(ids(withBob.slice(2)))
      expect(same(await repo.latestOf(pair('bob').pk), withBob.last!.sig)).toBe(true)
      expect(await repo.headOf(pair('bob').pk)).toBeUndefined() // bob owns no chain
      const summary = await repo.summary(alice.first!.sig)
      expect(summary!.author).toEqual(alice.first!.key)
      expect(summary!.height).toBe(4)
      // Alice continues the chain after bob's blocks: her own chain, a fast-forward.
      const back = chain('alice', ['a2'], withBob)
      expect(await repo.merge(back)).toBe(1)
      expect(same(await repo.headOf(pair('alice').pk), back.last!.sig)).toBe(true)
    })

    it('refuses forks unless the strategy accepts them; an accepted fork replaces the branch', async () => {
      const base = chain('alice', ['a0'])
      const left = chain('alice', ['l1', 'l2'], base)
      const right = chain('alice', ['r1'], base)
      await repo.merge(left)
      expect(await repo.merge(right)).toBe(0)
      expect(await repo.merge(right, () => false)).toBe(0)
      expect(ids(await repo.loadHead(pair('alice').pk))).toEqual(ids(left))
      const before = await keyCount(db)
      expect(await repo.merge(right, () => Promise.resolve(true))).toBe(1)
      expect(ids(await repo.loadHead(pair('alice').pk))).toEqual(ids(right))
      expect(await repo.hasBlock(left.block(1)!.sig)).toBe(false)
      expect(await repo.hasBlock(left.block(2)!.sig)).toBe(false)
      expect(await keyCount(db)).toBe(before - 2 * 2 + 2)
      expect(same(await repo.latestOf(pair('alice').pk), right.last!.sig)).toBe(true)
      const summary = await repo.summary(base.first!.sig)
      expect(summary).toMatchObject({ height: 2, length: 2 })
      // A repo-wide default strategy applies when merge gets none.
      const lenient = new Repo(db, { strategy: accept })
      expect(await lenient.merge(left)).toBe(2)
      expect(ids(await repo.loadHead(pair('alice').pk))).toEqual(ids(left))
    })

    it('a block after one that an accepted fork replaced, in the same call, is not written', async () => {
      // g, a stored; one writeBlocks call takes the fork f (after g) and then b (after a).
      // The fork evicts a; b must not land after f as if a were still the head (the
      // placement of a is on disk until the call's batch deletes it).
      const base = chain('alice', ['g', 'a'])
      const fork = chain('alice', ['f'], base.slice(0, 1))
      const after = chain('alice', ['b'], base)
      expect(await repo.merge(base)).toBe(2)
      const writes = [{ block: fork.last! }, { block: after.last! }]
      expect(await repo.writeBlocks(writes, { strategy: accept })).toBe(1)
      expect(await repo.hasBlock(after.last!.sig)).toBe(false)
      expect(await repo.hasBlock(base.last!.sig)).toBe(false)
      expect(ids(await repo.loadHead(pair('alice').pk))).toEqual(ids(fork))
      expect(await repo.summary(base.first!.sig)).toMatchObject({ height: 2, length: 2 })
    })

    it('merges feeds longer than one write batch around held blocks, foreign appends and forks', async () => {
      let asked = 0
      const counting: MergeStrategy = () => {
        asked++
        return true
      }
      const long = chain('alice', bodies('a', 2600))
      expect(await repo.merge(long.slice(0, 1500))).toBe(1500)
      // Held blocks, then new ones across batch boundaries, then bob appends (strategy asked).
      const withBob = chain('bob', ['b'], long)
      expect(await repo.merge(withBob, counting)).toBe(1101)
      expect(asked).toBe(1)
      expect(ids(await repo.resolveFeed(long.block(700)!.sig))).toEqual(ids(withBob))
      // blocks (the genesis without a placement record); chain record, number, owned key
      // (alice's tag); bob's tag; the counter, the index and layout versions
      expect(await keyCount(db)).toBe(2601 * 2 - 1 + 3 + 1 + 3)
      // A fork from the middle, then fast-forwards on it, in one merge.
      const fork = chain('alice', bodies('f', 1100), long.slice(0, 2000))
      expect(await repo.merge(fork, counting)).toBe(1100)
      expect(asked).toBe(2)
      expect(ids(await repo.loadHead(pair('alice').pk))).toEqual(ids(fork))
      expect(await repo.hasBlock(withBob.last!.sig)).toBe(false)
      expect(await repo.latestOf(pair('bob').pk)).toBeUndefined()
      expect(await repo.summary(long.first!.sig)).toMatchObject({ height: 3100, length: 3100 })
      expect(await keyCount(db)).toBe(3100 * 2 - 1 + 3 + 3)
    })

    it('an accepted fork drops the latest tag of the displaced author', async () => {
      const base = chain('alice', ['a0'])
      const bobBranch = chain('bob', ['b1'], base)
      const aliceBranch = chain('alice', ['a1'], base)
      await repo.merge(bobBranch, accept)
      expect(same(await repo.latestOf(pair('bob').pk), bobBranch.last!.sig)).toBe(true)
      expect(await repo.merge(aliceBranch, accept)).toBe(1)
      expect(await repo.latestOf(pair('bob').pk)).toBeUndefined()
      expect(same(await repo.latestOf(pair('alice').pk), aliceBranch.last!.sig)).toBe(true)
    })
  })
}
