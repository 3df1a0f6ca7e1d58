/** The repo conformance suite: close (registered by ../conformance.ts). */
import { beforeEach, describe, expect, it } from 'vitest'
import { Repo } from '../../src/index.ts'
import { bodies, chain, type Db, pair, utf8 } from '../helpers.ts'
import { codeOf, ids, type SuiteState, same } from './shared.ts'

/** Registers the "close" tests on the suite state `s`. */
export function closeAndReopen(s: SuiteState): void {
  describe('close', () => {
    let repo: Repo
    beforeEach(() => {
      ;({ repo } = s)
    })
    it('is idempotent; writes queued before it finish; later calls reject', async () => {
      const feed = chain('alice', bodies('a', 3))
      const merged = repo.merge(feed)
      const closed = repo.close()
      expect(await merged).toBe(3)
      await closed
      await repo.close()
      const calls: Promise<unknown>[] = [
        repo.merge(feed),
        repo.writeBlock(feed.first!),
        repo.readBlock(feed.first!.sig),
        repo.hasBlock(feed.first!.sig),
        repo.headOf(pair('alice').pk),
        repo.latestOf(pair('alice').pk),
        repo.loadFeed(feed.last!.sig),
        repo.resolveFeed(feed.last!.sig),
        repo.listFeeds(),
        repo.summary(feed.first!.sig),
        repo.listChains({ limit: 1 }),
        repo.rangeFingerprint(new Uint8Array(0)),
        repo.rangeChildren(new Uint8Array(0)),
        repo.rollback(feed.first!.sig),
        repo.evictPrefix(feed.first!.sig, feed.first!.sig),
        repo.readReg('x'),
        repo.writeReg('x', utf8('y')),
        repo.batch([]),
        (async () => {
          for await (const _ of repo.registry('r').entries());
        })(),
      ]
      for (const call of calls) expect(await codeOf(call)).toBe('REPO_CLOSED')
    })
  })

  if (s.factory.reopen) {
    const reopen = s.factory.reopen
    describe('reopen', () => {
      let db: Db
      let repo: Repo
      beforeEach(() => {
        ;({ db, repo } = s)
      })
      it('reopens from storage and finds everything', async () => {
        const alice = chain('alice', bodies('a', 4))
        const bob = chain('bob', bodies('b', 2))
        await repo.merge(alice)
        await repo.merge(bob)
        await repo.evictPrefix(alice.first!.sig, alice.first!.sig)
        await repo.writeReg('k', utf8('v'))
        const before = await repo.listFeeds()
        await repo.close()
        db = await reopen()
        s.db = db
        repo = new Repo(db)
        s.repo = repo
        expect(await repo.listFeeds()).toEqual(before)
        expect(ids(await repo.loadHead(pair('alice').pk))).toEqual(ids(alice.slice(1)))
        expect(ids(await repo.loadHead(pair('bob').pk))).toEqual(ids(bob))
        expect(await repo.readReg('k')).toEqual(utf8('v'))
        // The write sequence continues: bob's new block is the newest of all.
        const bob2 = chain('bob', ['b2'], bob)
        const alice2 = chain('alice', ['a4'], alice)
        await repo.merge(alice2)
        await repo.merge(chain('bob', bodies('second', 1)))
        await repo.merge(bob2)
        expect(same(await repo.latestOf(pair('bob').pk), bob2.last!.sig)).toBe(true)
      })
    })
  }
}
