/**
 * The repo conformance suite: the stored records, key by key (layout 2, README.md "Key
 * layout"), and the tags read from them (registered by ../conformance.ts).
 */
import { type Block, type Feed, toHex } from '@picostack/feed'
import { beforeEach, describe, expect, it } from 'vitest'
import { Repo, RepoError } from '../../src/index.ts'
import { LAYOUT_KEY } from '../../src/layout.ts'
import { decodeChain, decodePlacement } from '../../src/records.ts'
import { SEQ_KEY } from '../../src/write-set.ts'
import { chain, type Db, dump, pair, utf8 } from '../helpers.ts'
import { accept, ids, type SuiteState, same } from './shared.ts'

const VIEW = { keyEncoding: 'view', valueEncoding: 'view' } as const

/** `u64be(n)` in hex. */
function u64(n: number): string {
  return n.toString(16).padStart(16, '0')
}

/** `u32be(n)` in hex. */
function u32(n: number): string {
  return n.toString(16).padStart(8, '0')
}

/** The hex of `meta` keys: the index version, the layout version, the counter at `seq`. */
function meta(seq: number): string[] {
  return [
    `06${toHex(new TextEncoder().encode('index'))}=01`,
    `${toHex(LAYOUT_KEY)}=02`,
    `${toHex(SEQ_KEY)}=${u64(seq)}`,
  ]
}

/** Hex of a block's bytes. */
function bytesOf(block: Block): string {
  return toHex(block.buffer.subarray(0, block.blockSize))
}

/** Registers the "key layout" tests on the suite state `s`. */
export function keyLayout(s: SuiteState): void {
  describe('key layout', () => {
    let db: Db
    let repo: Repo
    beforeEach(() => {
      ;({ db, repo } = s)
    })
    const alice = () => pair('alice').pk

    it('stores a one-block chain in 3 records beside the counters: no placement, no chain number, no ids equal to the chain id', async () => {
      const feed = chain('alice', ['a0'])
      const g = feed.first!
      const id = toHex(g.sig)
      await repo.merge(feed)
      expect((await dump(db)).sort()).toEqual(
        [
          `02${u64(0)}${u32(1)}=${bytesOf(g)}`,
          // flags 1 (height known) | 4 (head = chain id) | 8 (first = chain id); owner;
          // chain 0, head height 1, 0 blocks below the head
          `03${id}=0d${alice()}000100`,
          `04${alice()}${u64(0)}=0001`, // alice's newest: seq 0 + 0, height 1
          ...meta(1),
        ].sort(),
      )
      expect(same(await repo.headOf(pair('alice').pk), g.sig)).toBe(true)
      expect(same(await repo.latestOf(pair('alice').pk), g.sig)).toBe(true)
      expect(same(await repo.chainOf(g.sig), g.sig)).toBe(true)
      expect(await repo.hasBlock(g.sig)).toBe(true)
      expect(ids(await repo.resolveFeed(g.sig))).toEqual([id])
      // Its second block, in a later write, finds its parent through the chain record.
      const longer = chain('alice', ['a1'], feed)
      expect(await repo.merge(longer)).toBe(1)
      const stored = await dump(db)
      expect(stored).toContain(`01${toHex(longer.last!.sig)}=000201`)
      expect(stored).toContain(`09${u64(0)}=${id}`)
      expect(ids(await repo.loadHead(pair('alice').pk))).toEqual(ids(longer))
      expect(await repo.rollback(g.sig)).toHaveLength(2)
      expect(await repo.hasBlock(g.sig)).toBe(false)
      expect(await repo.readBlock(g.sig)).toBeUndefined()
      expect(await repo.chainOf(g.sig)).toBeUndefined()
    })

    it('stores the head id of a longer chain, and a foreign author in 0x05', async () => {
      const feed = chain('alice', ['a0', 'a1'])
      const [g, a1] = feed.blocks as [Block, Block]
      const id = toHex(g.sig)
      await repo.merge(feed)
      const two = [
        `01${toHex(a1.sig)}=000201`, // chain 0, height 2, seq 0 + 1
        `02${u64(0)}${u32(1)}=${bytesOf(g)}`,
        `02${u64(0)}${u32(2)}=${bytesOf(a1)}`,
        `09${u64(0)}=${id}`, // named by a1's placement
      ]
      expect((await dump(db)).sort()).toEqual(
        [
          ...two,
          `03${id}=09${alice()}000201${toHex(a1.sig)}`, // flags 1 | 8; head height 2, 1 below
          `04${alice()}${u64(0)}=0102`, // seq 0 + 1, height 2
          ...meta(2),
        ].sort(),
      )
      const withBob = chain('bob', ['b2'], feed)
      const b2 = withBob.last!
      expect(await repo.merge(withBob, accept)).toBe(1)
      expect((await dump(db)).sort()).toEqual(
        [
          ...two,
          `01${toHex(b2.sig)}=000302`,
          `02${u64(0)}${u32(3)}=${bytesOf(b2)}`,
          `03${id}=09${alice()}000302${toHex(b2.sig)}`,
          `04${alice()}${u64(0)}=0102`, // alice's newest is no longer the head
          `05${pair('bob').pk}${u64(0)}=0203`, // bob's: seq 0 + 2, height 3
          ...meta(3),
        ].sort(),
      )
      expect(same(await repo.headOf(pair('alice').pk), b2.sig)).toBe(true)
      expect(same(await repo.latestOf(pair('alice').pk), a1.sig)).toBe(true)
      expect(same(await repo.latestOf(pair('bob').pk), b2.sig)).toBe(true)
    })

    it('moves headOf and latestOf to the older chain when the newest is evicted', async () => {
      const older = chain('alice', ['t0'])
      const newer = chain('alice', ['t1'])
      await repo.merge(older)
      await repo.merge(newer)
      expect(same(await repo.headOf(pair('alice').pk), newer.first!.sig)).toBe(true)
      expect(same(await repo.latestOf(pair('alice').pk), newer.first!.sig)).toBe(true)
      await repo.evictPrefix(newer.first!.sig, newer.first!.sig)
      expect(same(await repo.headOf(pair('alice').pk), older.first!.sig)).toBe(true)
      expect(same(await repo.latestOf(pair('alice').pk), older.first!.sig)).toBe(true)
      const owned = (await dump(db)).filter((entry) => entry.startsWith('04'))
      expect(owned).toEqual([`04${alice()}${u64(0)}=0001`])
      await repo.rollback(pair('alice').pk)
      expect(await repo.headOf(pair('alice').pk)).toBeUndefined()
      expect(await repo.latestOf(pair('alice').pk)).toBeUndefined()
    })

    it("keeps an owner's empty owned key when a prefix eviction takes all their blocks", async () => {
      const feed = chain('alice', ['a0', 'a1'])
      const withBob = chain('bob', ['b2'], feed)
      const b2 = withBob.last!
      await repo.merge(withBob, accept)
      const other = chain('bob', ['own'])
      await repo.merge(other)
      await repo.evictPrefix(feed.first!.sig, feed.last!.sig)
      const stored = await dump(db)
      // flags 1 | 16 (first = head): one block left, bob's
      expect(stored).toContain(`03${toHex(feed.first!.sig)}=11${alice()}000300${toHex(b2.sig)}`)
      expect(stored).toContain(`04${alice()}${u64(0)}=`)
      expect(same(await repo.headOf(pair('alice').pk), b2.sig)).toBe(true)
      expect(await repo.latestOf(pair('alice').pk)).toBeUndefined()
      // bob's newest block is his own chain's genesis (seq 3), not b2 (seq 2)
      expect(same(await repo.latestOf(pair('bob').pk), other.first!.sig)).toBe(true)
      await repo.rollback(feed.first!.sig, b2.sig)
      expect(same(await repo.latestOf(pair('bob').pk), other.first!.sig)).toBe(true)
    })

    /** Every public call of `repo` on a database holding chain `feed`'s blocks. */
    function everyCall(r: Repo, feed: Feed): [string, () => Promise<unknown>][] {
      const g = feed.first!
      const pk = pair('alice').pk
      return [
        ['merge', () => r.merge(feed)],
        ['writeBlock', () => r.writeBlock(g)],
        ['writeBlocks', () => r.writeBlocks([{ block: g }])],
        ['batch', () => r.batch([])],
        ['readBlock', () => r.readBlock(g.sig)],
        ['hasBlock', () => r.hasBlock(g.sig)],
        ['chainOf', () => r.chainOf(g.sig)],
        ['headOf', () => r.headOf(pk)],
        ['latestOf', () => r.latestOf(pk)],
        ['loadHead', () => r.loadHead(pk)],
        ['loadFeed', () => r.loadFeed(g.sig)],
        ['resolveFeed', () => r.resolveFeed(g.sig)],
        ['listFeeds', () => r.listFeeds()],
        ['listHeads', () => r.listHeads()],
        ['summary', () => r.summary(g.sig)],
        ['listChains', () => r.listChains({ limit: 1 })],
        ['rangeFingerprint', () => r.rangeFingerprint(new Uint8Array(0))],
        ['rangeChildren', () => r.rangeChildren(new Uint8Array(0))],
        ['rollback', () => r.rollback(g.sig)],
        ['evictPrefix', () => r.evictPrefix(g.sig, g.sig)],
        ['evictPrefixes', () => r.evictPrefixes([{ chainId: g.sig, lastId: g.sig }])],
        ['readReg', () => r.readReg('x')],
        ['writeReg', () => r.writeReg('x', utf8('y'))],
        ['registry get', () => r.registry('r').get('x')],
        ['registry getMany', () => r.registry('r').getMany(['x'])],
        ['registry put', () => r.registry('r').put('x', utf8('y'))],
        ['registry del', () => r.registry('r').del('x')],
        [
          'registry entries',
          async () => {
            for await (const _ of r.registry('r').entries());
          },
        ],
      ]
    }

    it('refuses every call on a database of key layout 1 or an unknown one with REPO_LAYOUT, writing nothing', async () => {
      const feed = chain('alice', ['a0', 'a1'])
      await repo.merge(feed)
      await repo.writeReg('x', utf8('kept'))
      // Layout 1: the write counter, no layout key (records of layout 1 do not decode as 2:
      // a 20-byte placement, a 177-byte chain record).
      await db.batch([{ type: 'del', key: LAYOUT_KEY }], VIEW)
      expect(() => decodePlacement(new Uint8Array(20))).toThrow(/placement/)
      expect(() => decodeChain(new Uint8Array(64), new Uint8Array(177))).toThrow(/chain/)
      for (const [version, value] of [
        [1, undefined],
        [3, Uint8Array.of(3)],
        ['unknown', Uint8Array.of(2, 0)],
      ] as const) {
        if (value) await db.batch([{ type: 'put', key: LAYOUT_KEY, value }], VIEW)
        const before = await dump(db)
        const old = new Repo(db)
        for (const [name, call] of everyCall(old, feed)) {
          const err = await call().then(
            () => undefined,
            (e: unknown) => e,
          )
          expect([name, err]).toEqual([name, expect.any(RepoError)])
          expect([name, (err as RepoError).code]).toEqual([name, 'REPO_LAYOUT'])
          expect((err as RepoError).message).toBe(
            `written by another key layout: ${version}; this repo reads 2; nothing is migrated`,
          )
        }
        expect(await dump(db)).toEqual(before)
      }
      await db.batch([{ type: 'put', key: LAYOUT_KEY, value: Uint8Array.of(2) }], VIEW)
      expect(ids(await new Repo(db).loadHead(pair('alice').pk))).toEqual(ids(feed))
    })

    it('writes the layout key into an empty database with its first batch, none on reads', async () => {
      for (const [name, call] of everyCall(repo, chain('alice', ['a0']))) {
        if (/merge|write|batch|put|del|rollback|evict/i.test(name)) continue
        await call()
      }
      expect(await dump(db)).toEqual([])
      await repo.batch([])
      expect(await dump(db)).toEqual([])
      const ops = [repo.registry('r').putOp('x', utf8('y'))]
      await repo.batch(ops)
      expect(ops).toHaveLength(1)
      expect(await dump(db)).toContain(`${toHex(LAYOUT_KEY)}=02`)
    })
  })
}
