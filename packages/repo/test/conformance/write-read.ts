/** The repo conformance suite: write and read (registered by ../conformance.ts). */
import { Block, bytesEqual, Feed, SIG_BYTES, toHex } from '@picostack/feed'
import { beforeEach, describe, expect, it } from 'vitest'
import { type Repo, RepoPartialWriteError } from '../../src/index.ts'
import { spyBatches } from '../db-spy.ts'
import { bodies, chain, type Db, keyCount, pair, utf8 } from '../helpers.ts'
import { accept, codeOf, ids, type SuiteState, same } from './shared.ts'

/** Registers the "write and read" tests on the suite state `s`. */
export function writeAndRead(s: SuiteState): void {
  describe('write and read', () => {
    let db: Db
    let repo: Repo
    beforeEach(() => {
      ;({ db, repo } = s)
    })
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

    it('loads the stored blocks alone when a prefix was evicted, short runs and long alike', async () => {
      const feed = chain('alice', bodies('a', 20))
      await repo.merge(feed)
      await repo.evictPrefix(feed.first!.sig, feed.block(1)!.sig)
      const last = feed.last!.sig
      expect(ids(await repo.loadFeed(feed.block(5)!.sig, 10))).toEqual(ids(feed.slice(2, 6)))
      expect(ids(await repo.loadFeed(feed.block(5)!.sig, 4))).toEqual(ids(feed.slice(2, 6)))
      expect(ids(await repo.loadFeed(feed.block(5)!.sig, 3))).toEqual(ids(feed.slice(3, 6)))
      expect(ids(await repo.loadFeed(last, 16))).toEqual(ids(feed.slice(4)))
      expect(ids(await repo.loadFeed(last, 17))).toEqual(ids(feed.slice(3)))
      expect(ids(await repo.loadFeed(last, 100))).toEqual(ids(feed.slice(2)))
      expect(ids(await repo.loadFeed(last))).toEqual(ids(feed.slice(2)))
      const one = chain('bob', ['b0'])
      await repo.merge(one)
      expect(toHex((await repo.loadFeed(one.first!.sig))!.buffer)).toBe(toHex(one.buffer))
      expect(ids(await repo.loadFeed(one.first!.sig, 5))).toEqual(ids(one))
    })

    it('writes a run of geneses of many chains, stopping at one held', async () => {
      const blocks = Array.from(
        { length: 7 },
        (_, i) => chain(i % 2 ? 'alice' : 'bob', [`g${i}`]).first!,
      )
      const write = (run: Block[]) => repo.writeBlocks(run.map((block) => ({ block })))
      expect(await write([blocks[2]!])).toBe(1)
      expect(await write(blocks.slice(0, 2))).toBe(2)
      expect(await write([blocks[3]!, blocks[4]!, blocks[1]!, blocks[5]!])).toBe(2)
      expect(await write(blocks.slice(0, 6))).toBe(0)
      expect(await write(blocks.slice(5))).toBe(2)
      for (const block of blocks) {
        expect(same(await repo.chainOf(block.sig), block.sig)).toBe(true)
        expect((await repo.summary(block.sig))?.length).toBe(1)
      }
      expect((await repo.listFeeds()).length).toBe(7)
      expect((await repo.rangeFingerprint(new Uint8Array(0))).count).toBe(7)
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
      expect(await keyCount(db)).toBe(6) // the one genesis: block, chain, owned (alice's tag), seq, index and layout versions
    })

    it('writes one block with registry ops atomically, and not the ops when refused', async () => {
      const feed = chain('alice', bodies('a', 3))
      const reg = repo.registry('state')
      expect(await repo.writeBlock(feed.block(0)!, { ops: [reg.putOp('x', utf8('1'))] })).toBe(true)
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
      expect(await keyCount(db)).toBe(6 + 2 * 6 - 1 + 4) // chain, number, owned, seq, index and layout versions; 6 blocks (the genesis without a placement record); n0..n3
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
      expect(await keyCount(db)).toBe(51 * 2 - 1 + 1 + 1 + 1 + 1 + 3) // blocks (the genesis without a placement record), chain, number, owned (alice's tag), bob's tag, seq, index and layout versions
      expect(ids(await repo.resolveFeed(feed.first!.sig))).toEqual(ids(withBob))
      expect(await repo.listFeeds()).toHaveLength(1)
    })
  })
}
