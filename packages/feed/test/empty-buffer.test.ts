import { expect, test } from 'vitest'
import { Feed, signPair } from '../src/index.ts'

const MAGIC = [0x50, 0x49, 0x43, 0x30]

test('an empty feed reads as PIC0, and writing into that view changes no other feed', () => {
  const empty = new Feed()
  expect([...empty.buffer]).toEqual(MAGIC)
  empty.buffer.fill(0) // a caller ignoring "read-only"
  expect([...empty.buffer]).toEqual(MAGIC)
  const other = new Feed()
  expect([...other.buffer]).toEqual(MAGIC)
  other.append('first', signPair().sk)
  expect([...other.buffer.subarray(0, 4)]).toEqual(MAGIC)
  expect(Feed.from(other.buffer).length).toBe(1)
  expect([...Feed.from(new Uint8Array(0)).buffer]).toEqual(MAGIC)
  expect([...Feed.from([]).buffer]).toEqual(MAGIC)
})

test('a feed read from bytes without copy views them in place; with copy it owns its bytes', () => {
  const source = new Feed()
  const { sk } = signPair()
  source.append('a', sk)
  source.append('b', sk)
  const bytes = source.buffer.slice()
  const inPlace = Feed.from(bytes, { copy: false })
  expect(inPlace.buffer.buffer).toBe(bytes.buffer)
  expect(inPlace.buffer.byteOffset).toBe(0)
  const copied = Feed.from(bytes)
  expect(copied.buffer.buffer).not.toBe(bytes.buffer)
  expect([...copied.buffer]).toEqual([...bytes])
  // Appending to either never writes into `bytes`.
  inPlace.append('c', sk)
  copied.append('c', sk)
  expect([...bytes]).toEqual([...source.buffer])
  expect(inPlace.length).toBe(3)
  expect(Feed.from(inPlace.buffer).length).toBe(3)
})
