/**
 * The default synchronous backend in Node: node:crypto for a process's first uses, then
 * libsodium (sodium-native is installed for the tests), and a backend chosen with
 * `useEd25519` holds. Alone in its file: the default depends on the uses counted so far.
 */
import { expect, it } from 'vitest'
import {
  activeEd25519,
  Feed,
  nobleEd25519,
  SODIUM_AFTER_USES,
  toHex,
  useEd25519,
} from '../src/index.ts'

const SECRET = '33'.repeat(32)

it('is node:crypto until the SODIUM_AFTER_USES-th use, then libsodium, with the same bytes', () => {
  const names: string[] = []
  const feed = new Feed()
  for (let i = 0; i < SODIUM_AFTER_USES + 8; i++) {
    names.push(activeEd25519().name)
    feed.append(`block ${i}`, SECRET) // one more use per block
  }
  const switched = names.indexOf('sodium')
  expect(names.slice(0, switched).every((name) => name === 'node')).toBe(true)
  expect(names.slice(switched).every((name) => name === 'sodium')).toBe(true)
  // At least two uses per block (the loop's and the append's; the first append also
  // derives the author key): the switch comes within the first half of the blocks.
  expect(switched).toBeGreaterThan(SODIUM_AFTER_USES / 2 - 4)
  expect(switched).toBeLessThanOrEqual(SODIUM_AFTER_USES / 2)
  // Blocks signed by each backend are the same bytes, and verify under the other.
  const previous = useEd25519(nobleEd25519)
  expect(previous.name).toBe('sodium')
  const again = new Feed()
  for (let i = 0; i < feed.length; i++) again.append(`block ${i}`, SECRET)
  expect(toHex(again.buffer)).toBe(toHex(feed.buffer))
  expect(Feed.from(feed.buffer).length).toBe(feed.length)
})

it('keeps a backend chosen with useEd25519', () => {
  useEd25519(nobleEd25519)
  for (let i = 0; i < SODIUM_AFTER_USES; i++) expect(activeEd25519().name).toBe('noble')
})
