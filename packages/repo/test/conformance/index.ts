/** The repo conformance suite: reconciliation index (registered by ../conformance.ts). */
import { Feed, toHex } from '@picostack/feed'
import { beforeEach, describe, expect, it } from 'vitest'
import { Repo } from '../../src/index.ts'
import { NS } from '../../src/layout.ts'
import { INDEX_KEY } from '../../src/range-index.ts'
import { bodies, chain, type Db } from '../helpers.ts'
import { codeOf, nibblesOfHex, type SuiteState } from './shared.ts'

/** Registers the "reconciliation index" tests on the suite state `s`. */
export function reconciliationIndex(s: SuiteState): void {
  describe('reconciliation index', () => {
    let db: Db
    let repo: Repo
    beforeEach(() => {
      ;({ db, repo } = s)
    })
    /** 20 chains of 1 to 3 blocks by fixed keys (Ed25519 signatures are deterministic). */
    async function fixedChains(): Promise<Feed[]> {
      const feeds: Feed[] = []
      for (let i = 1; i <= 20; i++) {
        const feed = new Feed()
        const sk = i.toString(16).padStart(2, '0').repeat(32)
        for (let b = 0; b < (i % 3) + 1; b++) feed.append(`task ${i}.${b}`, sk)
        await repo.merge(feed)
        feeds.push(feed)
      }
      return feeds
    }
    const hexOf = (r: { count: number; fingerprint: Uint8Array }) => [r.count, toHex(r.fingerprint)]
    const nibbles = (...n: number[]) => Uint8Array.from(n)

    it('gives the known fingerprints of a fixed set of chains', async () => {
      expect(hexOf(await repo.rangeFingerprint(nibbles()))).toEqual([0, '00'.repeat(32)])
      await fixedChains()
      // Reproduced outside the project: SHA-256(00 | chain id | head id | u32be(3)) of the
      // chain 0d4aaa52... is c8d08526... (Python hashlib).
      expect(hexOf(await repo.rangeFingerprint(nibbles(0)))).toEqual([
        1,
        'c8d085266fcbe723b32faa740a869f741be365a4b5694102c7dd8ce5351e77a4',
      ])
      expect(hexOf(await repo.rangeFingerprint(nibbles(5, 4)))).toEqual([
        1,
        '71a5c823edb2fe88d23980f5b24fdb7bdbbd096c19023edb6246351ebaa77ffc',
      ])
      expect(hexOf(await repo.rangeFingerprint(nibbles(5)))).toEqual([
        3,
        '65a25d19f175bb0cde531893edcbbba01888b752e5a72a90678843503d42e3eb',
      ])
      expect(hexOf(await repo.rangeFingerprint(nibbles()))).toEqual([
        20,
        'fa545b946aea63a1121e6a705a6c9fd7becdfeab71eb2242b13cc5fbec461181',
      ])
      const children = await repo.rangeChildren(nibbles())
      expect(children.map((c) => c.count)).toEqual([1, 1, 0, 1, 2, 3, 0, 1, 2, 1, 1, 2, 3, 0, 1, 1])
      expect(hexOf(children[5]!)).toEqual(hexOf(await repo.rangeFingerprint(nibbles(5))))
      expect(hexOf(children[2]!)).toEqual([0, '00'.repeat(32)])
      expect((await repo.rangeChildren(nibbles(5))).map((c) => c.count)).toEqual([
        0, 0, 0, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0,
      ])
    })

    it('follows appends, rollbacks and evictions, and a claimed chain is no item until its genesis arrives', async () => {
      const feeds = await fixedChains()
      const root = async () => hexOf(await repo.rangeFingerprint(nibbles()))
      const before = await root()
      const first = feeds[0]!
      const sk = '01'.repeat(32)
      const longer = first.clone()
      longer.append('more', sk)
      await repo.merge(longer)
      const appended = await root()
      expect(appended[0]).toBe(20)
      expect(appended).not.toEqual(before)
      await repo.rollback(first.first!.sig, first.last!.sig)
      expect(await root()).toEqual(before)
      // A prefix eviction keeps the head and height: the same item.
      await repo.evictPrefix(first.first!.sig, first.first!.sig)
      expect(await root()).toEqual(before)
      await repo.rollback(first.first!.sig)
      expect((await root())[0]).toBe(19)
      // A partial chain under a claimed id is no item; its genesis makes it one.
      const claimed = chain('carol', bodies('c', 3))
      await repo.merge(claimed.slice(1), undefined, { chainId: claimed.first!.sig, height: 2 })
      expect((await root())[0]).toBe(19)
      expect(await repo.listChains({ limit: 100, proven: true })).toHaveLength(19)
      expect(await repo.listChains({ limit: 100 })).toHaveLength(20)
      await repo.merge(claimed)
      expect((await root())[0]).toBe(20)
    })

    it('pages chains in id order by prefix, after and proven', async () => {
      await fixedChains()
      const all = (await repo.listFeeds()).map((s) => toHex(s.chainId))
      const paged: string[] = []
      let after: Uint8Array | undefined
      for (;;) {
        const page = await repo.listChains({ after, limit: 3 })
        paged.push(...page.map((s) => toHex(s.chainId)))
        if (page.length < 3) break
        after = page[2]!.chainId
      }
      expect(paged).toEqual(all)
      const fives = await repo.listChains({ prefix: nibbles(5), limit: 10 })
      expect(fives.map((s) => toHex(s.chainId))).toEqual(all.filter((id) => id.startsWith('5')))
      expect(await repo.listChains({ prefix: nibbles(5, 4), limit: 10 })).toHaveLength(1)
      const afterFirst = await repo.listChains({
        prefix: nibbles(5),
        after: fives[0]!.chainId,
        limit: 1,
      })
      expect(toHex(afterFirst[0]!.chainId)).toBe(toHex(fives[1]!.chainId))
      const whole = await repo.listChains({
        prefix: Uint8Array.from(nibblesOfHex(all[0]!)),
        limit: 2,
      })
      expect(whole.map((s) => toHex(s.chainId))).toEqual([all[0]])
      expect(await repo.listChains({ prefix: nibbles(2), limit: 5 })).toEqual([])
    })

    it('rejects bad prefixes and options with typed errors', async () => {
      await fixedChains()
      const deep = new Uint8Array(129)
      for (const call of [
        repo.rangeFingerprint(nibbles(16)),
        repo.rangeFingerprint(deep),
        repo.rangeFingerprint('0' as never),
        repo.rangeChildren(new Uint8Array(128)),
        repo.rangeChildren(nibbles(3, 255)),
        repo.listChains({ limit: 0 }),
        repo.listChains({ limit: 65_537 }),
        repo.listChains({ limit: 1.5 }),
        repo.listChains({ limit: 1, after: new Uint8Array(63) }),
        repo.listChains({ limit: 1, prefix: nibbles(20) }),
        repo.listChains({ limit: 1, proven: 'yes' as never }),
        repo.listChains(undefined as never),
      ]) {
        expect(await codeOf(call)).toBe('REPO_INVALID_INPUT')
      }
      expect(await repo.rangeFingerprint(new Uint8Array(128))).toMatchObject({ count: 0 })
      expect(await repo.listChains({ limit: 65_536 })).toHaveLength(20)
    })

    it('is built once at open for a database written before the index', async () => {
      await fixedChains()
      const root = await repo.rangeFingerprint(nibbles())
      const children = await repo.rangeChildren(nibbles(5))
      // What a database from before the index holds: no trie nodes, no version key.
      const trie = Uint8Array.of(NS.trie)
      const old: Uint8Array[] = []
      for await (const key of db.keys({
        gte: trie,
        lt: Uint8Array.of(NS.trie + 1),
        keyEncoding: 'view',
      })) {
        old.push(key)
      }
      await db.batch(
        [...old, INDEX_KEY].map((key) => ({ type: 'del' as const, key })),
        { keyEncoding: 'view' },
      )
      const reopened = new Repo(db)
      expect(hexOf(await reopened.rangeFingerprint(nibbles()))).toEqual(hexOf(root))
      expect((await reopened.rangeChildren(nibbles(5))).map(hexOf)).toEqual(children.map(hexOf))
      const version = await db.get(INDEX_KEY, { keyEncoding: 'view', valueEncoding: 'view' })
      expect([...version!]).toEqual([1])
      await reopened.merge(chain('dave', ['d']))
      expect((await reopened.rangeFingerprint(nibbles())).count).toBe(21)
    })
  })
}
