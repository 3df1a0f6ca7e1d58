/**
 * The repo conformance suite, written once and run against every abstract-level backend
 * (memory-level, classic-level, browser-level in a browser). No Node imports here: the
 * Node-specific files pass the database factories.
 */
import { Block, bytesEqual, Feed, type PicoError, SIG_BYTES, toHex } from '@picostack/feed'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type MergeStrategy, Repo, RepoError, RepoPartialWriteError } from '../src/index.ts'
import { NS } from '../src/layout.ts'
import { INDEX_KEY } from '../src/range-index.ts'
import { spyBatches } from './batch-spy.ts'
import { bodies, chain, type Db, dump, keyCount, pair, utf8 } from './helpers.ts'
import { integrityProblems } from './integrity.ts'

/** Opens databases for the suite: a fresh, empty one per test; `reopen` the last one from storage. */
export interface DbFactory {
  name: string
  open(): Promise<Db>
  /** Opens the database of the latest `open()` again, after the repo on it was closed. */
  reopen?(): Promise<Db>
}

const accept: MergeStrategy = () => true

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise
  } catch (err) {
    expect(err).toBeInstanceOf(RepoError)
    return (err as PicoError).code
  }
  return undefined
}

function same(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return a !== undefined && b !== undefined && bytesEqual(a, b)
}

/** Hex of every block of a feed, in order. */
function ids(feed: Feed | undefined): string[] {
  return feed ? feed.blocks.map((b) => toHex(b.sig)) : []
}

/** The nibbles of a hex string. */
function nibblesOfHex(hex: string): number[] {
  return [...hex].map((h) => Number.parseInt(h, 16))
}

function idsOf(blocks: readonly Block[]): string[] {
  return blocks.map((b) => toHex(b.sig))
}

/** Registers the conformance tests for one backend. */
export function conformance(factory: DbFactory): void {
  describe(`repo conformance: ${factory.name}`, () => {
    let db: Db
    let repo: Repo

    beforeEach(async () => {
      db = await factory.open()
      repo = new Repo(db)
    })

    afterEach(async () => {
      if (db.status === 'open') expect(await integrityProblems(db)).toEqual([])
      await repo.close()
    })

    describe('write and read', () => {
      it('round-trips blocks byte for byte and skips blocks already held', async () => {
        const feed = chain('alice', bodies('a', 4))
        expect(await repo.merge(feed)).toBe(4)
        for (const block of feed.blocks) {
          const read = await repo.readBlock(block.sig)
          expect(read).toBeInstanceOf(Block)
          expect(toHex(read!.buffer)).toBe(toHex(block.buffer))
          expect(Object.getPrototypeOf(read!.buffer)).toBe(Uint8Array.prototype)
          expect(await repo.hasBlock(block.sig)).toBe(true)
          expect(same(await repo.chainOf(block.sig), feed.first!.sig)).toBe(true)
        }
        expect(await repo.merge(feed)).toBe(0)
        expect(await repo.merge(chain('alice', ['a4'], feed))).toBe(1)
        const loaded = await repo.loadFeed(feed.last!.sig)
        expect(toHex(loaded!.buffer)).toBe(toHex(feed.buffer))
      })

      it('accepts bytes, a block and block arrays, verifying them', async () => {
        const feed = chain('alice', bodies('a', 3))
        expect(await repo.merge(feed.slice(0, 1).buffer)).toBe(1)
        expect(await repo.merge(feed.block(1)!)).toBe(1)
        expect(await repo.merge([...feed.blocks])).toBe(1)
        expect(ids(await repo.resolveFeed(feed.first!.sig))).toEqual(ids(feed))
      })

      it('answers undefined for unknown blocks and rejects malformed ids', async () => {
        const unknown = new Uint8Array(SIG_BYTES).fill(7)
        expect(await repo.readBlock(unknown)).toBeUndefined()
        expect(await repo.hasBlock(unknown)).toBe(false)
        expect(await repo.chainOf(unknown)).toBeUndefined()
        expect(await repo.loadFeed(unknown)).toBeUndefined()
        expect(await repo.resolveFeed(unknown)).toBeUndefined()
        expect(await repo.summary(unknown)).toBeUndefined()
        expect(await repo.headOf(pair('nobody').pk)).toBeUndefined()
        expect(await repo.latestOf(pair('nobody').pk)).toBeUndefined()
        expect(await repo.loadHead(pair('nobody').pk)).toBeUndefined()
        expect(await codeOf(repo.readBlock(new Uint8Array(63)))).toBe('REPO_INVALID_INPUT')
        expect(await codeOf(repo.hasBlock('ab' as never))).toBe('REPO_INVALID_INPUT')
        expect(await codeOf(repo.headOf('xyz'))).toBe('REPO_INVALID_INPUT')
        expect(await codeOf(repo.merge('nope' as never))).toBe('REPO_INVALID_INPUT')
      })

      it('loads the newest blocks by limit or until a stop function says so', async () => {
        const feed = chain('alice', bodies('a', 6))
        await repo.merge(feed)
        expect(ids(await repo.loadFeed(feed.last!.sig, 2))).toEqual(ids(feed.slice(4)))
        expect(ids(await repo.loadFeed(feed.block(3)!.sig, 10))).toEqual(ids(feed.slice(0, 4)))
        const stopAt = feed.block(2)!.sig
        const loaded = await repo.loadFeed(feed.last!.sig, (b) => bytesEqual(b.sig, stopAt))
        expect(ids(loaded)).toEqual(ids(feed.slice(3)))
        expect(ids(await repo.loadHead(pair('alice').pk, 1))).toEqual(ids(feed.slice(5)))
        expect(await codeOf(repo.loadFeed(feed.last!.sig, 0))).toBe('REPO_INVALID_INPUT')
        expect(await codeOf(repo.loadFeed(feed.last!.sig, 1.5))).toBe('REPO_INVALID_INPUT')
      })

      it('resolves the whole chain from any of its blocks', async () => {
        const feed = chain('alice', bodies('a', 5))
        await repo.merge(feed)
        for (const block of feed.blocks) {
          expect(ids(await repo.resolveFeed(block.sig))).toEqual(ids(feed))
        }
      })

      it('never stores a block that fails verification or lacks an author header', async () => {
        const feed = chain('alice', bodies('a', 3))
        const tampered = feed.buffer.slice()
        tampered[tampered.length - 1]! ^= 1
        expect(await codeOf(repo.merge(tampered))).toBe('REPO_UNVERIFIED')
        const block = new Block(tampered, 4 + feed.block(0)!.blockSize + feed.block(1)!.blockSize)
        expect(await codeOf(repo.writeBlock(block))).toBe('REPO_UNVERIFIED')
        // sig | varint(1) | body "x": a block without headers
        const keyless = new Block(Uint8Array.of(...new Uint8Array(SIG_BYTES), 1, 0x78))
        expect(await codeOf(repo.writeBlock(keyless))).toBe('REPO_UNVERIFIED')
        expect(await codeOf(repo.merge(keyless))).toBe('REPO_UNVERIFIED')
        // A Feed instance is trusted to be verified; its author headers are still checked.
        expect(await repo.merge(Feed.from([feed.first!], { verify: false }))).toBe(1)
        expect(await codeOf(repo.merge(Feed.from([keyless], { verify: false })))).toBe(
          'REPO_UNVERIFIED',
        )
        expect(await keyCount(db)).toBe(8) // the one genesis: placement, block, chain, chain number, owned, authored, seq, index version
      })

      it('writes one block with registry ops atomically, and not the ops when refused', async () => {
        const feed = chain('alice', bodies('a', 3))
        const reg = repo.registry('state')
        expect(await repo.writeBlock(feed.block(0)!, { ops: [reg.putOp('x', utf8('1'))] })).toBe(
          true,
        )
        expect(await reg.get('x')).toEqual(utf8('1'))
        // already held: ops not written
        expect(await repo.writeBlock(feed.block(0)!, { ops: [reg.putOp('x', utf8('2'))] })).toBe(
          false,
        )
        // unknown parent: ops not written
        expect(await repo.writeBlock(feed.block(2)!, { ops: [reg.delOp('x')] })).toBe(false)
        expect(await reg.get('x')).toEqual(utf8('1'))
        expect(await repo.writeBlock(feed.block(1)!, { ops: [reg.delOp('x')] })).toBe(true)
        expect(await reg.get('x')).toBeUndefined()
        expect(await repo.writeBlock(feed.block(2)!)).toBe(true)
        expect(ids(await repo.loadHead(pair('alice').pk))).toEqual(ids(feed))
      })

      it('writes a run of blocks with their ops in one batch, stopping at the first refusal', async () => {
        const alice = chain('alice', bodies('a', 6))
        const withBob = chain('bob', ['b0', 'b1'], alice)
        const reg = repo.registry('state')
        const writes = withBob.blocks.map((block, i) => ({
          block,
          ops: [reg.putOp(`n${i}`, utf8(String(i)))],
        }))
        const batches = spyBatches(db)
        // Bob's first block is a foreign append the default strategy refuses: it and what
        // follows are not written, nor are their ops.
        expect(await repo.writeBlocks(writes)).toBe(6)
        expect(batches.count).toBe(1)
        batches.restore()
        expect(ids(await repo.loadHead(pair('alice').pk))).toEqual(ids(alice))
        for (let i = 0; i < 8; i++) {
          expect(await reg.get(`n${i}`)).toEqual(i < 6 ? utf8(String(i)) : undefined)
        }
        // Held: the run stops at once, nothing of it is written.
        expect(await repo.writeBlocks([{ block: alice.first!, ops: [reg.delOp('n0')] }])).toBe(0)
        expect(await reg.get('n0')).toEqual(utf8('0'))
        expect(await repo.writeBlocks(writes.slice(6), { strategy: accept })).toBe(2)
        expect(await reg.get('n7')).toEqual(utf8('7'))
        expect(ids(await repo.resolveFeed(alice.first!.sig))).toEqual(ids(withBob))
      })

      it('a key rewritten by every block of a run keeps the value of the last block written', async () => {
        const alice = chain('alice', bodies('a', 4))
        const withBob = chain('bob', ['b0'], alice)
        const reg = repo.registry('state')
        const writes = withBob.blocks.map((block, i) => ({
          block,
          ops: [reg.putOp('total', utf8(String(i))), reg.putOp(`n${i}`, utf8('x'))],
        }))
        expect(await repo.writeBlocks(writes)).toBe(4) // bob's block is refused
        expect(await reg.get('total')).toEqual(utf8('3'))
        const deleting = chain('alice', ['a4', 'a5'], alice)
        const more = deleting.blocks.slice(4).map((block, i) => ({
          block,
          ops: i === 0 ? [reg.putOp('total', utf8('4'))] : [reg.delOp('total')],
        }))
        expect(await repo.writeBlocks(more)).toBe(2)
        expect(await reg.get('total')).toBeUndefined()
        expect(await keyCount(db)).toBe(6 + 2 * 6 + 4) // chain, number, owned, authored, seq, index version; 6 blocks; n0..n3
      })

      it('writeBlocks verifies every block first and writes nothing of a forged run', async () => {
        const feed = chain('alice', bodies('a', 6))
        const tampered = feed.buffer.slice()
        tampered[tampered.length - 1]! ^= 1 // the sixth block's body
        const forged = Feed.from(tampered, { verify: false })
        const writes = forged.blocks.map((block) => ({ block }))
        expect(await codeOf(repo.writeBlocks(writes))).toBe('REPO_UNVERIFIED')
        expect(await codeOf(repo.writeBlocks(writes.slice(3)))).toBe('REPO_UNVERIFIED')
        expect(await keyCount(db)).toBe(0)
        // `verified` vouches for the signatures; author headers are still required.
        const keyless = new Block(Uint8Array.of(...new Uint8Array(SIG_BYTES), 1, 0x78))
        expect(await codeOf(repo.writeBlocks([{ block: keyless }], { verified: true }))).toBe(
          'REPO_UNVERIFIED',
        )
        const valid = feed.blocks.map((block) => ({ block }))
        expect(await repo.writeBlocks(valid.slice(0, 5), { verified: true })).toBe(5)
        expect(ids(await repo.loadHead(pair('alice').pk))).toEqual(ids(feed.slice(0, 5)))
        expect(await codeOf(repo.writeBlocks([{ block: 1 }] as never))).toBe('REPO_INVALID_INPUT')
      })

      it('a run whose second batch fails keeps exactly its first 1024 writes and says so', async () => {
        const feed = chain('alice', bodies('a', 1100))
        const reg = repo.registry('state')
        const writes = feed.blocks.map((block, i) => ({
          block,
          ops: [reg.putOp(`n${i}`, utf8(String(i))), reg.putOp('last', utf8(String(i)))],
        }))
        const quota = new DOMException('the quota is exceeded', 'QuotaExceededError')
        const failing = (fail: number) => spyBatches(db, (n) => (n === fail ? quota : undefined))
        // The first batch fails: nothing is written, and the failure itself is thrown.
        let spy = failing(1)
        const first = await repo.writeBlocks(writes, { verified: true }).catch((err) => err)
        expect(first).toBeInstanceOf(DOMException)
        expect(await keyCount(db)).toBe(0)
        // The second fails: the first 1024 writes and their ops stay, nothing after them.
        spy.restore()
        spy = failing(2)
        const second = await repo.writeBlocks(writes, { verified: true }).catch((err) => err)
        spy.restore()
        expect(second).toBeInstanceOf(RepoPartialWriteError)
        expect(second.code).toBe('REPO_PARTIAL_WRITE')
        expect(second.written).toBe(1024)
        expect(second.cause.name).toBe('QuotaExceededError')
        expect(ids(await repo.loadHead(pair('alice').pk))).toEqual(ids(feed).slice(0, 1024))
        expect(await repo.latestOf(pair('alice').pk)).toEqual(feed.block(1023)!.sig)
        expect(await reg.get('last')).toEqual(utf8('1023'))
        expect(await reg.get('n1023')).toEqual(utf8('1023'))
        expect(await reg.get('n1024')).toBeUndefined()
        // The rest goes on from there; a merge failing the same way reports the same.
        expect(await repo.writeBlocks(writes.slice(1024))).toBe(76)
        expect(ids(await repo.loadHead(pair('alice').pk))).toEqual(ids(feed))
        const other = chain('bob', bodies('b', 1030))
        spy = failing(2)
        const merged = await repo.merge(other).catch((err) => err)
        spy.restore()
        expect(merged.code).toBe('REPO_PARTIAL_WRITE')
        expect(ids(await repo.loadHead(pair('bob').pk))).toEqual(ids(other).slice(0, 1024))
        expect(await repo.merge(other)).toBe(6)
      })

      it('writeBlocks starts a partial chain at a given height', async () => {
        const feed = chain('alice', bodies('a', 5))
        const chainId = feed.first!.sig
        const writes = feed.blocks.slice(2).map((block) => ({ block }))
        expect(await repo.writeBlocks(writes, { chainId, height: 3 })).toBe(3)
        const summary = await repo.summary(chainId)
        expect(summary).toMatchObject({ height: 5, length: 3, heightKnown: true })
        expect(same(summary!.firstId, feed.block(2)!.sig)).toBe(true)
      })

      it('rejects ops that are not registry ops', async () => {
        const feed = chain('alice', ['a'])
        const bad = [{ type: 'put', key: Uint8Array.of(1, 2), value: Uint8Array.of(3) }] as never
        expect(await codeOf(repo.writeBlock(feed.first!, { ops: bad }))).toBe('REPO_INVALID_INPUT')
        expect(await codeOf(repo.batch(bad))).toBe('REPO_INVALID_INPUT')
        expect(await codeOf(repo.batch([{ type: 'nope' }] as never))).toBe('REPO_INVALID_INPUT')
        expect(await repo.hasBlock(feed.first!.sig)).toBe(false)
        expect(await keyCount(db)).toBe(0)
      })
    })

    describe('chains, heads and authors', () => {
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
        // blocks; chain record, number, owner tag; alice's and bob's tags; the counter, the index version
        expect(await keyCount(db)).toBe(2601 * 2 + 3 + 2 + 2)
        // A fork from the middle, then fast-forwards on it, in one merge.
        const fork = chain('alice', bodies('f', 1100), long.slice(0, 2000))
        expect(await repo.merge(fork, counting)).toBe(1100)
        expect(asked).toBe(2)
        expect(ids(await repo.loadHead(pair('alice').pk))).toEqual(ids(fork))
        expect(await repo.hasBlock(withBob.last!.sig)).toBe(false)
        expect(await repo.latestOf(pair('bob').pk)).toBeUndefined()
        expect(await repo.summary(long.first!.sig)).toMatchObject({ height: 3100, length: 3100 })
        expect(await keyCount(db)).toBe(3100 * 2 + 3 + 1 + 2)
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

    describe('forgetting', () => {
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
        expect(await keyCount(db)).toBe(2) // the write sequence counter, the index version
        expect(await repo.headOf(pair('alice').pk)).toBeUndefined()
        expect(await repo.latestOf(pair('alice').pk)).toBeUndefined()
        expect(await repo.listFeeds()).toEqual([])
        expect(await codeOf(repo.rollback(pair('alice').pk))).toBe('REPO_UNKNOWN_CHAIN')
        expect(await codeOf(repo.rollback(feed.first!.sig))).toBe('REPO_UNKNOWN_CHAIN')
        const again = chain('alice', bodies('again', 2))
        expect(await repo.merge(again)).toBe(2)
        expect(ids(await repo.loadHead(pair('alice').pk))).toEqual(ids(again))
        expect(await codeOf(repo.rollback(again.first!.sig, feed.first!.sig))).toBe(
          'REPO_NOT_FOUND',
        )
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
        expect(await keyCount(db)).toBe(keysBefore - 2 * 2)
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
        expect(await keyCount(db)).toBe(2) // the write sequence counter, the index version
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

    describe('partial chains', () => {
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

    describe('reconciliation index', () => {
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
      const hexOf = (r: { count: number; fingerprint: Uint8Array }) => [
        r.count,
        toHex(r.fingerprint),
      ]
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
        expect(children.map((c) => c.count)).toEqual([
          1, 1, 0, 1, 2, 3, 0, 1, 2, 1, 1, 2, 3, 0, 1, 1,
        ])
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

    describe('registry', () => {
      it('reads and writes the root registry and isolated named registries', async () => {
        expect(await repo.readReg('identity')).toBeUndefined()
        await repo.writeReg('identity', utf8('secret'))
        expect(await repo.readReg('identity')).toEqual(utf8('secret'))
        expect(await repo.readReg(utf8('identity'))).toEqual(utf8('secret'))
        const a = repo.registry('a')
        const ab = repo.registry('ab')
        await a.put('b:1', utf8('from a'))
        await ab.put(':1', utf8('from ab'))
        expect(await a.get('b:1')).toEqual(utf8('from a'))
        expect(await ab.get(':1')).toEqual(utf8('from ab'))
        expect(await ab.get('b:1')).toBeUndefined()
        expect(await repo.readReg('b:1')).toBeUndefined()
        const entries = async (r: ReturnType<Repo['registry']>, range = {}) => {
          const out: string[] = []
          for await (const [k, v] of r.entries(range)) {
            out.push(`${new TextDecoder().decode(k)}=${new TextDecoder().decode(v)}`)
          }
          return out
        }
        expect(await entries(a)).toEqual(['b:1=from a'])
        await a.del('b:1')
        expect(await a.get('b:1')).toBeUndefined()
        const t = repo.registry('timers')
        await repo.batch(['3', '1', '2', '10'].map((k) => t.putOp(k, utf8(`v${k}`))))
        expect(await entries(t)).toEqual(['1=v1', '10=v10', '2=v2', '3=v3'])
        expect(await entries(t, { gte: utf8('10'), lt: utf8('3') })).toEqual(['10=v10', '2=v2'])
        expect(await entries(t, { limit: 1 })).toEqual(['1=v1'])
        expect(await entries(t, { reverse: true, limit: 3 })).toEqual(['3=v3', '2=v2', '10=v10'])
        expect(await entries(t, { gte: utf8('10'), lt: utf8('3'), reverse: true })).toEqual([
          '2=v2',
          '10=v10',
        ])
        expect(await codeOf(t.put('x', 'no' as never))).toBe('REPO_INVALID_INPUT')
        expect(() => repo.registry(1 as never)).toThrow(RepoError)
      })
    })

    describe('close', () => {
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

    if (factory.reopen) {
      const reopen = factory.reopen
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
        repo = new Repo(db)
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
    }

    it('concurrent merges of the same feed neither duplicate nor corrupt', async () => {
      const feed = chain('alice', bodies('a', 50))
      const withBob = chain('bob', ['b'], feed)
      const results = await Promise.all([
        repo.merge(feed),
        repo.merge(feed.slice(0, 20)),
        repo.merge(withBob, accept),
        repo.merge(feed),
        repo.merge(feed.slice(0, 10)),
      ])
      expect(results.reduce((a, b) => a + b, 0)).toBe(51)
      expect(await keyCount(db)).toBe(51 * 2 + 1 + 1 + 1 + 2 + 2) // blocks, chain, number, owned, tags, seq, index version
      expect(ids(await repo.resolveFeed(feed.first!.sig))).toEqual(ids(withBob))
      expect(await repo.listFeeds()).toHaveLength(1)
    })
  })
}
