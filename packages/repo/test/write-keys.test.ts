/**
 * The write path's shared buffers: chain record keys made many at a time are views of one
 * allocation (a typed array over 64 B costs one outside V8's young heap), and the item
 * digest's input is one reused array. Both must give the bytes the plain builders give.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { expect, it } from 'vitest'
import { itemDigest } from '../src/fingerprint.ts'
import { chainKey, chainKeys, NS } from '../src/layout.ts'
import { WriteSet } from '../src/write-set.ts'
import { chain } from './helpers.ts'

const id = (fill: number) => new Uint8Array(64).fill(fill)

it('chainKeys gives 0x03 | id for each id, in order, and no two keys share bytes', () => {
  const ids = [id(1), id(2), id(3)]
  const keys = chainKeys(ids)
  expect(keys.map((k) => [...k])).toEqual(ids.map((i) => [NS.chain, ...i]))
  keys[0]!.fill(0xee)
  expect([...keys[1]!]).toEqual([NS.chain, ...ids[1]!])
  expect([...keys[2]!]).toEqual([NS.chain, ...ids[2]!])
})

it('a drain writes each chain record under its own key, new chains in one buffer', () => {
  const ws = new WriteSet(0)
  const feeds = ['a', 'b', 'c'].map((author) => chain(author, [`${author}1`]))
  for (const feed of feeds) ws.startChain(feed.first!, feed.first!.sig, 1, true)
  const old = { ...ws.chains.get(String.fromCharCode(...feeds[0]!.first!.sig))! }
  const existing = { ...old, chainId: id(9), chainNo: 99 }
  ws.markChain(existing)
  const { ops } = ws.drain()
  const records = ops.filter((op) => op.key[0] === NS.chain)
  expect(records.map((op) => [...op.key])).toEqual(
    [...feeds.map((f) => f.first!.sig), id(9)].map((i) => [...chainKey(i)]),
  )
  const [a, b, c, e] = records.map((op) => op.key.buffer)
  expect(a === b && b === c).toBe(true)
  expect(e).not.toBe(a)
})

it('itemDigest hashes 0x00 | chain id | head id | u32be(height), call after call', () => {
  const expected = (chainId: Uint8Array, headId: Uint8Array, height: number) =>
    sha256(
      Uint8Array.of(
        0,
        ...chainId,
        ...headId,
        height >>> 24,
        (height >>> 16) & 255,
        (height >>> 8) & 255,
        height & 255,
      ),
    )
  const first = itemDigest(id(1), id(2), 0x01020304)
  const kept = first.slice()
  expect([...first]).toEqual([...expected(id(1), id(2), 0x01020304)])
  const second = itemDigest(id(3), id(4), 7)
  expect([...second]).toEqual([...expected(id(3), id(4), 7)])
  expect([...first]).toEqual([...kept])
})
