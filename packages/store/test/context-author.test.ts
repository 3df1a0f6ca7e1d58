import { Block, Feed, signPair, toHex } from '@picostack/feed'
import { expect, test } from 'vitest'
import { baseContext } from '../src/verdict.ts'

const body = { type: 'tasks', payload: {}, date: 0 }

/** A block whose author header holds `key` (its signature no longer verifies: not checked here). */
function blockBy(key: Uint8Array): Block {
  const feed = new Feed()
  feed.append('x', signPair().sk)
  const block = new Block(feed.last!.buffer.slice())
  block.key!.set(key)
  return block
}

test('AUTHOR is each block author key as hex, for authors in turn and keys with one prefix', () => {
  const shared = new Uint8Array(32).fill(7)
  const other = shared.slice()
  other[31] = 8 // same first bytes, another key
  const keys = [
    shared,
    other,
    ...Array.from({ length: 300 }, (_, i) =>
      new Uint8Array(32).fill(i % 256).map((b, j) => (j === 5 ? i >> 8 : b)),
    ),
  ]
  const blocks = keys.map(blockBy)
  for (let round = 0; round < 3; round++) {
    for (const [i, block] of blocks.entries()) {
      expect(baseContext(block, undefined, body, 'c', 0).AUTHOR).toBe(toHex(keys[i]!))
    }
  }
})
