/** The repo conformance suite: forgetting (registered by ../conformance.ts). */
import { SIG_BYTES, toHex } from '@picostack/feed'
import { beforeEach, describe, expect, it } from 'vitest'
import type { Repo } from '../../src/index.ts'
import { spyBatches } from '../db-spy.ts'
import { bodies, chain, type Db, dump, keyCount, pair, utf8 } from '../helpers.ts'
import { accept, codeOf, ids, idsOf, type SuiteState, same } from './shared.ts'

/** Registers the "forgetting" tests on the suite state `s`. */
export function forgetting(s: SuiteState): void {
  describe('forgetting', () => {
    let db: Db
    let repo: Repo
    beforeEach(() => {
      ;({ db, repo } = s)
    })
    it('rolls back part of a chain, moving every tag, and the key count falls', async () => {
      const feed = chain('alice', bodies('a', 5))
      const withBob = chain('bob', ['b'], feed)
      await repo.merge(withBob, accept)
      const keysBefore = await keyCount(db)
      const evicted = await repo.rollback(feed.first!.sig, feed.block(2)!.sig)
      expect(idsOf(evicted)).toEqual(ids(withBob.slice(3)).reverse())
      expect(await keyCount(db)).toBe(keysBefore - 3 * 2 - 1) // blocks + bob's tag
      expect(ids(await repo.loadHead(pair('alice').pk))).toEqual(ids(feed.slice(0, 3)))
      expect(same(await repo.latestOf(pair('alice').pk), feed.block(2)!.sig)).toBe(true)
      expect(await repo.latestOf(pair('bob').pk)).toBeUndefined()
      expect(await repo.readBlock(feed.block(3)!.sig)).toBeUndefined()
      expect(await repo.summary(feed.first!.sig)).toMatchObject({ height: 3, length: 3 })
      // The evicted blocks fast-forward back in.
      expect(await repo.merge(feed)).toBe(2)
      expect(await repo.rollback(pair('alice').pk, feed.last!.sig)).toEqual([])
    })

    it('rolls back a whole chain, then a new genesis starts over', async () => {
      const feed = chain('alice', bodies('a', 3))
      await repo.merge(feed)
      const evicted = await repo.rollback(pair('alice').pk)
      expect(idsOf(evicted)).toEqual(ids(feed).reverse())
      expect(await keyCount(db)).toBe(3) // the write sequence counter, the index and layout versions
      expect(await repo.headOf(pair('alice').pk)).toBeUndefined()
      expect(await repo.latestOf(pair('alice').pk)).toBeUndefined()
      expect(await repo.listFeeds()).toEqual([])
      expect(await codeOf(repo.rollback(pair('alice').pk))).toBe('REPO_UNKNOWN_CHAIN')
      expect(await codeOf(repo.rollback(feed.first!.sig))).toBe('REPO_UNKNOWN_CHAIN')
      const again = chain('alice', bodies('again', 2))
      expect(await repo.merge(again)).toBe(2)
      expect(ids(await repo.loadHead(pair('alice').pk))).toEqual(ids(again))
      expect(await codeOf(repo.rollback(again.first!.sig, feed.first!.sig))).toBe('REPO_NOT_FOUND')
      // hex chain ids work too
      expect(await repo.rollback(toHex(again.first!.sig))).toHaveLength(2)
    })

    it('evicts a prefix, leaving a partial chain that keeps its id and height', async () => {
      const feed = chain('alice', bodies('a', 5))
      await repo.merge(feed)
      const chainId = feed.first!.sig
      const keysBefore = await keyCount(db)
      const evicted = await repo.evictPrefix(chainId, feed.block(1)!.sig)
      expect(idsOf(evicted)).toEqual(ids(feed.slice(0, 2)))
      expect(await keyCount(db)).toBe(keysBefore - 2 * 2 + 1) // a genesis has no placement record
      expect(await repo.summary(chainId)).toEqual({
        chainId,
        author: feed.first!.key,
        headId: feed.last!.sig,
        height: 5,
        firstId: feed.block(2)!.sig,
        length: 3,
        heightKnown: true,
        proven: true,
      })
      expect(ids(await repo.resolveFeed(feed.last!.sig))).toEqual(ids(feed.slice(2)))
      expect(same(await repo.chainOf(feed.block(3)!.sig), chainId)).toBe(true)
      // Re-sent evicted blocks stay out; new blocks after the head still merge.
      const longer = chain('alice', ['a5', 'a6'], feed)
      expect(await repo.merge(longer)).toBe(2)
      expect(await repo.hasBlock(feed.first!.sig)).toBe(false)
      expect(ids(await repo.loadHead(pair('alice').pk))).toEqual(ids(longer.slice(2)))
      // Block by block, then through the head: the chain goes.
      expect(await repo.evictPrefix(chainId, longer.block(2)!.sig)).toHaveLength(1)
      expect(await codeOf(repo.evictPrefix(chainId, feed.first!.sig))).toBe('REPO_NOT_FOUND')
      expect(await repo.evictPrefix(chainId, longer.last!.sig)).toHaveLength(4)
      expect(await repo.summary(chainId)).toBeUndefined()
      expect(await repo.headOf(pair('alice').pk)).toBeUndefined()
      expect(await repo.latestOf(pair('alice').pk)).toBeUndefined()
      expect(await keyCount(db)).toBe(3) // the write sequence counter, the index and layout versions
      expect(await codeOf(repo.evictPrefix(chainId, feed.last!.sig))).toBe('REPO_UNKNOWN_CHAIN')
    })

    it('evicts the prefixes of many chains in one atomic batch with its ops', async () => {
      const alice = chain('alice', bodies('a', 5))
      const bob = chain('bob', bodies('b', 4))
      const carol = chain('carol', bodies('c', 3))
      for (const feed of [alice, bob, carol]) await repo.merge(feed)
      const reg = repo.registry('state')
      const before = await dump(db)
      // A refusal anywhere writes nothing: unknown chain, a block of another chain, twice.
      const a = { chainId: alice.first!.sig, lastId: alice.block(1)!.sig }
      const b = { chainId: bob.first!.sig, lastId: bob.last!.sig }
      const ops = [reg.putOp('gc', utf8('done'))]
      const unknown = { chainId: new Uint8Array(SIG_BYTES), lastId: alice.first!.sig }
      expect(await codeOf(repo.evictPrefixes([a, unknown], { ops }))).toBe('REPO_UNKNOWN_CHAIN')
      const wrong = { chainId: carol.first!.sig, lastId: bob.first!.sig }
      expect(await codeOf(repo.evictPrefixes([a, wrong], { ops }))).toBe('REPO_NOT_FOUND')
      expect(await codeOf(repo.evictPrefixes([a, b, a]))).toBe('REPO_INVALID_INPUT')
      expect(await codeOf(repo.evictPrefixes([{ chainId: a.chainId }] as never))).toBe(
        'REPO_INVALID_INPUT',
      )
      // A failing batch writes nothing either.
      const failing = spyBatches(db, () => new Error('disk'))
      expect(await repo.evictPrefixes([a, b], { ops }).catch((err) => err.message)).toBe('disk')
      failing.restore()
      const batches = spyBatches(db)
      expect(await dump(db)).toEqual(before)
      expect(await repo.evictPrefixes([a, b], { ops })).toEqual([2, 4])
      expect(batches.count).toBe(1)
      batches.restore()
      expect(await reg.get('gc')).toEqual(utf8('done'))
      expect(await repo.summary(a.chainId)).toMatchObject({
        firstId: alice.block(2)!.sig,
        length: 3,
      })
      expect(await repo.summary(b.chainId)).toBeUndefined()
      expect(await repo.headOf(pair('bob').pk)).toBeUndefined()
      expect(ids(await repo.loadHead(pair('carol').pk))).toEqual(ids(carol))
      expect(await repo.rangeFingerprint(new Uint8Array(0))).toMatchObject({ count: 2 })
      expect(await repo.evictPrefixes([])).toEqual([])
    })

    it('drops a foreign author’s tag when all their blocks leave with a prefix', async () => {
      const base = chain('alice', ['a0'])
      const withBob = chain('bob', ['b1'], base)
      const feed = chain('alice', ['a2'], withBob)
      await repo.merge(feed, accept)
      await repo.evictPrefix(base.first!.sig, withBob.last!.sig)
      expect(await repo.latestOf(pair('bob').pk)).toBeUndefined()
      expect(same(await repo.latestOf(pair('alice').pk), feed.last!.sig)).toBe(true)
    })

    it('writes rollback and eviction ops in the same batch', async () => {
      const feed = chain('alice', bodies('a', 3))
      await repo.merge(feed)
      const timers = repo.registry('timers')
      await repo.evictPrefix(feed.first!.sig, feed.first!.sig, {
        ops: [timers.putOp('t', utf8('evicted'))],
      })
      expect(await timers.get('t')).toEqual(utf8('evicted'))
      await repo.rollback(feed.first!.sig, undefined, { ops: [timers.delOp('t')] })
      expect(await timers.get('t')).toBeUndefined()
    })
  })
}
