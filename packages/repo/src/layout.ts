/**
 * The repo's key layout: every key is `namespace byte | key bytes` in one database, read
 * and written with `'view'` encodings. The table is in README.md ("Key layout").
 */
import { SIG_BYTES, utf8, varintEncode, varintLength } from '@picostack/feed'
import { RepoError } from './errors.ts'

/** Bytes of an Ed25519 public key. */
export const AUTHOR_BYTES = 32
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
  /** `0x04 | owner | chain number u64 | chain id` -> empty: chains an author owns, oldest first. */
  owned: 0x04,
  /** `0x05 | author | chain id` -> the author's newest block in that chain. */
  authored: 0x05,
  /** `0x06 | name` -> repo metadata (write sequence counter). */
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

/** The nibbles of `id` (64 B) as values 0..15 (128 B). */
export function nibblesOf(id: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 * id.length)
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

/** Where a stored block sits: its chain, its height in it, and when it was written. */
export interface Placement {
  /** The chain's number ({@link ChainRecord.chainNo}). */
  chainNo: number
  height: number
  /** Repo-wide write sequence number of the block (orders "most recently written"). */
  seq: number
}

/** What the repo stores per chain. */
export interface ChainRecord {
  chainId: Uint8Array // 64 B
  /** Owner: the genesis author (or the first block's author for a partial chain). */
  author: Uint8Array // 32 B
  headId: Uint8Array // 64 B
  headHeight: number
  firstId: Uint8Array // 64 B
  firstHeight: number
  /**
   * Chain number: the write sequence number when the chain was started. Never reused, it
   * orders an owner's chains and stands for the chain id in block keys and placements.
   */
  chainNo: number
  /** False for a partial chain received without a height: heights count from its first block. */
  heightKnown: boolean
  /**
   * True for a partial chain: started by a block whose parent was not held, under a chain
   * id (and height) the sender claimed. Nothing proves such a chain until its genesis
   * arrives, which then replaces it (see the package README, "Partial chains").
   */
  claimed: boolean
}

/** An author's newest block in one chain. */
export interface AuthoredEntry {
  seq: number
  height: number
  id: Uint8Array // 64 B
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

function corrupt(what: string): never {
  throw new RepoError('REPO_CORRUPT', `malformed ${what} record`)
}

/** Bytes of a placement key. */
export const PLACEMENT_KEY_BYTES = 1 + SIG_BYTES
/** Bytes of a placement value. */
export const PLACEMENT_BYTES = 20
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

/** `0x03 | chain id` */
export function chainKey(chainId: Uint8Array): Uint8Array {
  const key = new Uint8Array(1 + SIG_BYTES)
  key[0] = NS.chain
  key.set(chainId, 1)
  return key
}

/** `0x04 | owner | chain number u64 | chain id` */
export function ownedKey(owner: Uint8Array, chainNo: number, chainId: Uint8Array): Uint8Array {
  const key = new Uint8Array(1 + AUTHOR_BYTES + 8 + SIG_BYTES)
  key[0] = NS.owned
  key.set(owner, 1)
  writeU64(key, 1 + AUTHOR_BYTES, chainNo)
  key.set(chainId, 1 + AUTHOR_BYTES + 8)
  return key
}

/** `0x04 | owner` */
export function ownedPrefix(owner: Uint8Array): Uint8Array {
  return prefixed(NS.owned, owner)
}

/** The chain id at the end of an owned key. */
export function chainIdOfOwnedKey(key: Uint8Array): Uint8Array {
  return key.subarray(1 + AUTHOR_BYTES + 8)
}

/** `0x05 | author | chain id` */
export function authoredKey(author: Uint8Array, chainId: Uint8Array): Uint8Array {
  const key = new Uint8Array(1 + AUTHOR_BYTES + SIG_BYTES)
  key[0] = NS.authored
  key.set(author, 1)
  key.set(chainId, 1 + AUTHOR_BYTES)
  return key
}

/** `0x05 | author` */
export function authoredPrefix(author: Uint8Array): Uint8Array {
  return prefixed(NS.authored, author)
}

/** `0x06 | name` */
export function metaKey(name: string): Uint8Array {
  return prefixed(NS.meta, utf8(name))
}

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

/** Placement value: chain number u64 | height u32 | seq u64 = 20 B, written into `out` when given. */
export function encodePlacement(p: Placement, out = new Uint8Array(PLACEMENT_BYTES)): Uint8Array {
  writeU64(out, 0, p.chainNo)
  writeU32(out, 8, p.height)
  writeU64(out, 12, p.seq)
  return out
}

/** @throws REPO_CORRUPT when `bytes` is not a placement value */
export function decodePlacement(bytes: Uint8Array): Placement {
  if (bytes.length !== PLACEMENT_BYTES) corrupt('placement')
  return { chainNo: readU64(bytes, 0), height: readU32(bytes, 8), seq: readU64(bytes, 12) }
}

const FLAG_HEIGHT_KNOWN = 1
const FLAG_CLAIMED = 2
const CHAIN_RECORD_BYTES = AUTHOR_BYTES + 2 * SIG_BYTES + 4 + 4 + 8 + 1

/**
 * Chain value: author | head id | first id | head height u32 | first height u32 | chain
 * number u64 | flags u8 (bit 0: height known, bit 1: claimed).
 */
export function encodeChain(c: ChainRecord): Uint8Array {
  const out = new Uint8Array(CHAIN_RECORD_BYTES)
  out.set(c.author, 0)
  out.set(c.headId, AUTHOR_BYTES)
  out.set(c.firstId, AUTHOR_BYTES + SIG_BYTES)
  let at = AUTHOR_BYTES + 2 * SIG_BYTES
  writeU32(out, at, c.headHeight)
  writeU32(out, at + 4, c.firstHeight)
  writeU64(out, at + 8, c.chainNo)
  at += 16
  out[at] = (c.heightKnown ? FLAG_HEIGHT_KNOWN : 0) | (c.claimed ? FLAG_CLAIMED : 0)
  return out
}

/** @throws REPO_CORRUPT when `bytes` is not a chain record */
export function decodeChain(chainId: Uint8Array, bytes: Uint8Array): ChainRecord {
  if (bytes.length !== CHAIN_RECORD_BYTES) corrupt('chain')
  const at = AUTHOR_BYTES + 2 * SIG_BYTES
  return {
    chainId,
    author: bytes.slice(0, AUTHOR_BYTES),
    headId: bytes.slice(AUTHOR_BYTES, AUTHOR_BYTES + SIG_BYTES),
    firstId: bytes.slice(AUTHOR_BYTES + SIG_BYTES, at),
    headHeight: readU32(bytes, at),
    firstHeight: readU32(bytes, at + 4),
    chainNo: readU64(bytes, at + 8),
    heightKnown: (bytes[at + 16]! & FLAG_HEIGHT_KNOWN) !== 0,
    claimed: (bytes[at + 16]! & FLAG_CLAIMED) !== 0,
  }
}

/** Authored value: seq u64 | height u32 | id (64) = 76 B. */
export function encodeAuthored(e: AuthoredEntry): Uint8Array {
  const out = new Uint8Array(12 + SIG_BYTES)
  writeU64(out, 0, e.seq)
  writeU32(out, 8, e.height)
  out.set(e.id, 12)
  return out
}

/** @throws REPO_CORRUPT when `bytes` is not an authored value */
export function decodeAuthored(bytes: Uint8Array): AuthoredEntry {
  if (bytes.length !== 12 + SIG_BYTES) corrupt('authored')
  return { seq: readU64(bytes, 0), height: readU32(bytes, 8), id: bytes.slice(12) }
}

/** u64 value (the write sequence counter). */
export function encodeU64(n: number): Uint8Array {
  const out = new Uint8Array(8)
  writeU64(out, 0, n)
  return out
}

/** @throws REPO_CORRUPT when `bytes` is not 8 bytes */
export function decodeU64(bytes: Uint8Array): number {
  if (bytes.length !== 8) corrupt('counter')
  return readU64(bytes, 0)
}

/** A plain Uint8Array view of bytes a database returned (Node Buffers included). */
export function plain(bytes: Uint8Array): Uint8Array {
  return bytes.constructor === Uint8Array
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}
