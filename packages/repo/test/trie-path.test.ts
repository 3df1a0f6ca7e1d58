/**
 * Node ids (a number down to 12 nibbles, a string deeper) name each prefix once, and a trie
 * node in one buffer keeps copies of what it is given and encodes what it decoded.
 */
import fc from 'fast-check'
import { expect, it } from 'vitest'
import { trieKey } from '../src/layout.ts'
import { TrieNode } from '../src/trie-node.ts'
import { NUMBERED_DEPTH, nodeId, numberedId, TriePath } from '../src/trie-path.ts'
import { mapKey } from '../src/write-set.ts'

const nibbles = (length: number) => fc.uint8Array({ minLength: length, maxLength: length, max: 15 })

it('gives every prefix down to depth 3 its own id, the number of its place in its depth', () => {
  const seen = new Set<number | string>()
  for (let depth = 0; depth <= 3; depth++) {
    for (let i = 0; i < 16 ** depth; i++) {
      const prefix = Uint8Array.from({ length: depth }, (_, d) => (i >> (4 * (depth - 1 - d))) & 15)
      const id = nodeId(prefix, depth)
      expect(id).toBe(numberedId(depth, i))
      seen.add(id)
    }
  }
  expect(seen.size).toBe(1 + 16 + 256 + 4096)
})

it('names two prefixes alike only when they are the same prefix (at any depth)', () => {
  fc.assert(
    fc.property(nibbles(128), nibbles(128), fc.nat(128), fc.nat(128), (x, y, a, b) => {
      const same = a === b && x.subarray(0, a).every((n, i) => n === y[i])
      expect(nodeId(x, a) === nodeId(y, b)).toBe(same)
      expect(typeof nodeId(x, a)).toBe(a <= NUMBERED_DEPTH ? 'number' : 'string')
      if (a > NUMBERED_DEPTH) expect(nodeId(x, a)).toBe(mapKey(trieKey(x.subarray(0, a))))
    }),
    { numRuns: 2000 },
  )
})

it('gives a path the ids and stored keys of its prefixes', () => {
  fc.assert(
    fc.property(nibbles(128), fc.nat(128), (x, depth) => {
      const path = new TriePath(x)
      expect(path.id(depth)).toBe(nodeId(x, depth))
      expect(path.id(depth)).toBe(path.id(depth))
      expect(path.key(depth)).toEqual(trieKey(x.subarray(0, depth)))
    }),
  )
})

it('keeps copies of the fingerprints and id heads it is given, and encodes what it decoded', () => {
  const node = new TrieNode()
  const digest = new Uint8Array(32).fill(7)
  const id = Uint8Array.from({ length: 64 }, (_, i) => i)
  node.set(2, 1, digest, id)
  node.set(9, 5, digest)
  digest.fill(0)
  id.fill(0)
  expect(node.childFingerprint(2)).toEqual(new Uint8Array(32).fill(7))
  expect(node.head(2)).toEqual(Uint8Array.from({ length: 16 }, (_, i) => i))
  expect(node.head(9)).toBeUndefined()
  const copy = TrieNode.decode(node.encode())
  expect(copy.encode()).toEqual(node.encode())
  expect(copy.fingerprint()).toEqual(node.fingerprint())
  copy.set(2, 0, digest)
  expect(node.head(2)).toEqual(Uint8Array.from({ length: 16 }, (_, i) => i))
  expect(copy.head(2)).toBeUndefined()
})
