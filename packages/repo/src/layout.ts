/**
 * The repo's key layout: every key is `namespace byte | key bytes` in one database, read
 * and written with `'view'` encodings. The table is in README.md ("Key layout").
 */
import { SIG_BYTES, utf8, varintEncode, varintLength } from '@picostack/feed'
import { AUTHOR_BYTES } from './records.ts'

/** Largest height a chain position can take (heights are stored as u32). */
export const MAX_HEIGHT = 0xffff_ffff

/** Namespace bytes (first byte of every key). */
export const NS = {
  /** `0x01 | id` -> placement: chain number, height, write sequence. */
  placement: 0x01,
  /** `0x02 | chain number u64 | height u32` -> block bytes. */
  block: 0x02,
  /** `0x03 | chain id` -> chain record. */
  chain: 0x03,
  /**
   * `0x04 | owner | chain number u64` -> the owner's newest block in it: chains an author
   * owns, oldest first.
   */
  owned: 0x04,
  /** `0x05 | author | chain number u64` -> the newest block in it of an author who does not own it. */
  authored: 0x05,
  /** `0x06 | name` -> repo metadata (write sequence counter, layout and index versions). */
  meta: 0x06,
  /** `0x07 | varint(name length) | name | key` -> registry value. */
  registry: 0x07,
  /** `0x08 | id` -> chain id: a block that started a partial chain (its parent unknown). */
  partial: 0x08,
  /** `0x09 | chain number u64` -> chain id: the chain a placement names. */
  chainNo: 0x09,
  /**
   * `0x0a | depth u8 | prefix nibbles packed (ceil(depth / 2) B)` -> reconciliation trie node
   * of a prefix of depth {@link TRIE_STORED_DEPTH} or more holding 2 or more items (see
   * `trie-node.ts` for the value).
   */
  trie: 0x0a,
} as const

/**
 * Shallowest trie node stored: the nodes above it (at most 273) live in memory only,
 * derived at open from the stored ones (see `trie-top.ts`).
 */
export const TRIE_STORED_DEPTH = 3

/** Nibbles in a chain id (64 B): the deepest prefix. */
export const MAX_DEPTH = 2 * SIG_BYTES

/**
 * The nibbles of `id` (64 B) as values 0..15 (128 B), written into `out` when given (at
 * least `2 * id.length` long).
 */
export function nibblesOf(id: Uint8Array, out = new Uint8Array(2 * id.length)): Uint8Array {
  for (let i = 0; i < id.length; i++) {
    out[2 * i] = id[i]! >> 4
    out[2 * i + 1] = id[i]! & 0x0f
  }
  return out
}

/** `nibbles` packed two per byte into `out` at `at` (an odd last one high, low nibble 0). */
function packNibbles(nibbles: Uint8Array, out: Uint8Array, at: number): void {
  for (let i = 0; i < nibbles.length; i++) {
    out[at + (i >> 1)]! |= i & 1 ? nibbles[i]! : nibbles[i]! << 4
  }
}

/** `0x0a | depth u8 | packed nibbles`: the trie node key of a prefix given as nibble values. */
export function trieKey(prefix: Uint8Array): Uint8Array {
  const key = new Uint8Array(2 + ((prefix.length + 1) >> 1))
  key[0] = NS.trie
  key[1] = prefix.length
  packNibbles(prefix, key, 2)
  return key
}

/**
 * `[gte, lt)` of the chain records (`0x03 | chain id`) whose id starts with `prefix`
 * (nibble values).
 */
export function chainRange(prefix: Uint8Array): [gte: Uint8Array, lt: Uint8Array] {
  const bytes = (prefix.length + 1) >> 1
  const gte = new Uint8Array(1 + bytes)
  gte[0] = NS.chain
  packNibbles(prefix, gte, 1)
  if (prefix.length & 1 && prefix[prefix.length - 1]! < 0x0f) {
    const lt = gte.slice()
    lt[bytes]! += 0x10
    return [gte, lt]
  }
  // An even prefix, or an odd one ending in nibble 15: every id whose whole bytes match.
  return [gte, prefixEnd(gte.subarray(0, 1 + (prefix.length >> 1)))]
}

/* Big-endian integers written byte by byte: no DataView per key on the write path. */

function writeU32(out: Uint8Array, at: number, n: number): void {
  out[at] = n >>> 24
  out[at + 1] = n >>> 16
  out[at + 2] = n >>> 8
  out[at + 3] = n
}

function readU32(bytes: Uint8Array, at: number): number {
  return bytes[at]! * 0x100_0000 + ((bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!)
}

function writeU64(out: Uint8Array, at: number, n: number): void {
  writeU32(out, at, Math.floor(n / 0x1_0000_0000))
  writeU32(out, at + 4, n >>> 0)
}

function readU64(bytes: Uint8Array, at: number): number {
  return readU32(bytes, at) * 0x1_0000_0000 + readU32(bytes, at + 4)
}

/** Bytes of a placement key. */
export const PLACEMENT_KEY_BYTES = 1 + SIG_BYTES
/** Bytes of a block key. */
export const BLOCK_KEY_BYTES = 13

/** `0x01 | id`, written into `key` when given (exactly {@link PLACEMENT_KEY_BYTES} long). */
export function placementKey(
  id: Uint8Array,
  key = new Uint8Array(PLACEMENT_KEY_BYTES),
): Uint8Array {
  key[0] = NS.placement
  key.set(id, 1)
  return key
}

/** `0x08 | id` */
export function partialKey(id: Uint8Array): Uint8Array {
  return prefixed(NS.partial, id)
}

/** `0x02 | chain number u64 | height u32` (13 B), written into `key` when given. */
export function blockKey(
  chainNo: number,
  height: number,
  key = new Uint8Array(BLOCK_KEY_BYTES),
): Uint8Array {
  key[0] = NS.block
  writeU64(key, 1, chainNo)
  writeU32(key, 9, height)
  return key
}

/** The chain number in a block key. */
export function chainNoOfBlockKey(key: Uint8Array): number {
  return readU64(key, 1)
}

/** The height in a block key. */
export function heightOfBlockKey(key: Uint8Array): number {
  return readU32(key, 9)
}

/** `0x09 | chain number u64` */
export function chainNoKey(chainNo: number): Uint8Array {
  const key = new Uint8Array(9)
  key[0] = NS.chainNo
  writeU64(key, 1, chainNo)
  return key
}

/** Bytes of a chain record key. */
export const CHAIN_KEY_BYTES = 1 + SIG_BYTES

/** `0x03 | chain id`, written into `key` when given (exactly {@link CHAIN_KEY_BYTES} long). */
export function chainKey(chainId: Uint8Array, key = new Uint8Array(CHAIN_KEY_BYTES)): Uint8Array {
  key[0] = NS.chain
  key.set(chainId, 1)
  return key
}

/**
 * The chain record keys of `chainIds` (64 B each), in order: views of one allocation. A
 * typed array over 64 B gets its memory outside V8's young heap, which costs ~0.7 us a
 * time against ~30 ns for a view, and a 65-B key is just over; the keys of one call live
 * and die together (a read's keys), or stay stored together (new chains' keys of one batch).
 */
export function chainKeys(chainIds: readonly Uint8Array[]): Uint8Array[] {
  const all = new Uint8Array(chainIds.length * CHAIN_KEY_BYTES)
  const keys: Uint8Array[] = new Array(chainIds.length)
  for (let i = 0; i < chainIds.length; i++) {
    const at = i * CHAIN_KEY_BYTES
    keys[i] = chainKey(chainIds[i]!, all.subarray(at, at + CHAIN_KEY_BYTES))
  }
  return keys
}

/** `namespace | author | chain number u64`: an owned or authored key (41 B). */
function tagKey(namespace: number, author: Uint8Array, chainNo: number): Uint8Array {
  const key = new Uint8Array(1 + AUTHOR_BYTES + 8)
  key[0] = namespace
  key.set(author, 1)
  writeU64(key, 1 + AUTHOR_BYTES, chainNo)
  return key
}

/** `0x04 | owner | chain number u64` (41 B): a chain the owner owns, and their tag in it. */
export function ownedKey(owner: Uint8Array, chainNo: number): Uint8Array {
  return tagKey(NS.owned, owner, chainNo)
}

/** `0x04 | owner` */
export function ownedPrefix(owner: Uint8Array): Uint8Array {
  return prefixed(NS.owned, owner)
}

/** The chain number at the end of an owned or authored key. */
export function chainNoOfTagKey(key: Uint8Array): number {
  return readU64(key, 1 + AUTHOR_BYTES)
}

/** `0x05 | author | chain number u64` (41 B): the tag of an author who does not own the chain. */
export function authoredKey(author: Uint8Array, chainNo: number): Uint8Array {
  return tagKey(NS.authored, author, chainNo)
}

/** `0x05 | author` */
export function authoredPrefix(author: Uint8Array): Uint8Array {
  return prefixed(NS.authored, author)
}

/** `0x06 | name` */
export function metaKey(name: string): Uint8Array {
  return prefixed(NS.meta, utf8(name))
}

/** Meta key of the key layout version ({@link LAYOUT_VERSION}). */
export const LAYOUT_KEY = metaKey('layout')
/**
 * Version of the key layout this code reads and writes (README.md, "Key layout"): 2, the
 * compact records. Databases of layout 1 (no layout key) are not migrated.
 */
export const LAYOUT_VERSION = 2

/** `0x07 | varint(name length) | name`: the prefix of registry `name`. */
export function registryPrefix(name: string): Uint8Array {
  const nameBytes = utf8(name)
  const prefix = new Uint8Array(1 + varintLength(nameBytes.length) + nameBytes.length)
  prefix[0] = NS.registry
  const at = 1 + varintEncode(nameBytes.length, prefix, 1)
  prefix.set(nameBytes, at)
  return prefix
}

/** `namespace | bytes` */
export function prefixed(namespace: number, bytes: Uint8Array): Uint8Array {
  const key = new Uint8Array(1 + bytes.length)
  key[0] = namespace
  key.set(bytes, 1)
  return key
}

/** `a | b` */
export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}

/**
 * The smallest key greater than every key that starts with `prefix` (prefixes here
 * always start with a namespace byte below 0xff, so it exists).
 */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  let end = prefix.length
  while (end > 0 && prefix[end - 1] === 0xff) end--
  const out = prefix.slice(0, end)
  out[end - 1]! += 1
  return out
}

/** A plain Uint8Array view of bytes a database returned (Node Buffers included). */
export function plain(bytes: Uint8Array): Uint8Array {
  return bytes.constructor === Uint8Array
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}
