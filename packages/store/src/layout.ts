/**
 * Keys of the store's registry (`repo.registry('store')`): the one place the store's
 * on-disk layout is written down (layout {@link LAYOUT}, recorded in `z`). Every key starts
 * with a tag byte; names and ids in the middle of a key are length-prefixed (u16) so no id
 * can collide with another; an id or order key at the end of a key is its raw UTF-8
 * bytes, so keys sort by it (`o` and `x`: the query API's id order). Values are CBOR
 * unless said otherwise. Everything a block changes is written in the same atomic batch
 * as the block. `load()` reads only `z`, `s`, `e`, `i`, `n`, `r`, the first `t` key, the
 * keys of `p` and `q` (up to 4,097: while they are few, memory lists their ids, and a
 * block no `p` or `q` key names costs no read of them) and `o` of collections that keep a
 * snapshot (`Memory.snapshot`).
 *
 * Compact ids. Where no order depends on it, an object id is written compactly: in a key
 * ({@link idPart}) a lowercase-hex id of even length is the byte 0xff (never a byte of
 * UTF-8) then its raw bytes, any other id its UTF-8, length-prefixed either way; in a value
 * ({@link idValue}) a CBOR byte string or a text string alike. Ids are mostly hex (block
 * and chain ids, keys: 128 or 64 characters), so this halves them. An object whose id is
 * the hex of a block id (one made by its block: `idOf` returning the block's id, or
 * `CHAIN` in a genesis) is backed by that block without a `b` key (its `o` record says
 * so, and how many `b` keys it has: an object backed by its own block alone is read with
 * no range read), and that block's `h` record has `null` for the object's id. A genesis's
 * `h` record has `null` for its chain id (the chain id is the block id), and a genesis has
 * no `c` key: it is always the oldest held block of its chain (a partial chain claimed
 * under its id leaves before it is held, and the repo keeps an evicted genesis out), so
 * its place is implied. Object numbers (an id written once, referred to by number) were
 * weighed: the number's own record (number -> collection, id) costs about what they save,
 * and a read more.
 *
 * | tag | key | value |
 * |---|---|---|
 * | `s` | slice name | `[name, slice state]` |
 * | `e` | slice name, seq (u64) | `[name, seq, blockId, expiresAt, signal or null]` (a live slice entry) |
 * | `o` | collection, then the object id's UTF-8 bytes | `[value, expiresAt, orderKeys, indexKeys, own, others]` (`own`: the block whose hex is the id backs it; `others`: how many `b` keys it has) |
 * | `d` | collection, object id (compact) | `[blockId, expiresAt]` (a tombstone: the object was deleted by block `blockId`, which backs it; blocks of the id back nothing until `expiresAt`) |
 * | `x` | collection, order name, then the order key's UTF-8 bytes, 0x00, the object id's UTF-8 bytes | empty (a collection's declared order: `Memory.orders`) |
 * | `n` | collection | live objects (a number) |
 * | `b` | collection, object id (compact), block id (64 B) | empty (the block backs the object; not for the block whose hex is the id) |
 * | `i` | collection, index key | `[collection, index key, blockId, object id (compact)]` (`ctx.index`) |
 * | `t` | at (u64), kind (1 B: `o`, `e` or `d`), name, id (compact) | empty, or the exact time when it is not a whole number of ms in 0 .. 2^53 - 1 (a persisted expiry timer; only the earliest is armed) |
 * | `h` | block id (64 B) | `[seq, chainId or null (a genesis: the block id; not for a block whose id a partial chain claimed), refs, [[collection, object id (compact) or null (the block id's hex)], ...], size]` (a held block: its accept seq, which `reload()` replays in, how many objects and slice entries it backs, which objects, and its bytes) |
 * | `c` | chain id (64 B), seq (u64) | block id (64 B, raw): the chain's held blocks after its genesis (which has no `c` key; held, it comes first), oldest first |
 * | `r` | chain id (64 B) | empty: a block of this chain stopped backing anything; its dead prefix is evicted next (survives a crash between the two writes) |
 * | `p` | chain id (64 B) | empty: a partial chain was started under this id (a claim its genuine genesis replaces; read with the genesis's `h` key when listed, so a genesis costs no repo lookup) |
 * | `q` | block id (64 B) | chain ids (64 B each, raw, one after the other): partial chains started by a block whose parent is this block (its sender claimed their ids). When the block is held, each such chain still unproven whose first block's parent it is leaves, and its blocks are dispatched again so they join this block's chain; the key goes then (read with the block's `h` key when listed) |
 * | `m` | block id | `[block bytes, addedAt, tries, retryAt]` (mempool) |
 * | `z` | (none) | `[bytes of the held blocks (the storage budget's measure), accept seq of the next block, layout]` |
 *
 * A registry in another layout (an older store wrote it: its `z` lacks the layout number,
 * or has another) is refused at `load()` with `STORE_LAYOUT`; nothing of it is read or
 * changed. For a to-do task (one object per one-block chain, a 128-character id), the
 * store's keys and values come to about 810 B (880 B in layout 4, which gave a genesis a
 * `c` key), of which the object's `o` record is 480 B.
 */
import { toHex, utf8 } from '@picostack/feed'

/** The layout this store writes and reads, recorded in the `z` record. */
export const LAYOUT = 5

export const TAG = {
  slice: 0x73,
  entry: 0x65,
  object: 0x6f,
  tombstone: 0x64,
  backing: 0x62,
  index: 0x69,
  timer: 0x74,
  mempool: 0x6d,
  order: 0x78,
  count: 0x6e,
  held: 0x68,
  chain: 0x63,
  released: 0x72,
  meter: 0x7a,
  claim: 0x70,
  joins: 0x71,
} as const

function u64(n: number): Uint8Array {
  const out = new Uint8Array(8)
  const view = new DataView(out.buffer)
  view.setUint32(0, Math.floor(n / 0x1_0000_0000))
  view.setUint32(4, n >>> 0)
  return out
}

/** Concatenates a tag and parts; string parts are UTF-8 with a u16 length prefix. */
export function key(tag: number, ...parts: (string | Uint8Array)[]): Uint8Array {
  const bytes: Uint8Array[] = new Array(parts.length)
  let size = 1
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!
    const b = typeof part === 'string' ? utf8(part) : part
    bytes[i] = b
    size += b.length + (typeof part === 'string' ? 2 : 0)
  }
  const out = new Uint8Array(size)
  out[0] = tag
  let at = 1
  for (let i = 0; i < parts.length; i++) {
    const b = bytes[i]!
    if (typeof parts[i] === 'string') {
      out[at++] = b.length >> 8
      out[at++] = b.length & 0xff
    }
    out.set(b, at)
    at += b.length
  }
  return out
}

/** Marks an id part written as raw bytes: 0xff never occurs in UTF-8. */
const RAW_ID = 0xff

/** True when `id` is lowercase hex of even length (it round-trips through its bytes). */
export function isLowerHex(id: string): boolean {
  if (id.length % 2 !== 0) return false
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i)
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false
  }
  return true
}

/**
 * A compact id key part (u16 length first): a lowercase-hex id of even length as 0xff and
 * its raw bytes, any other id as its UTF-8.
 */
export function idPart(id: string): Uint8Array {
  if (!isLowerHex(id)) {
    const bytes = utf8(id)
    const out = new Uint8Array(2 + bytes.length)
    out[0] = bytes.length >> 8
    out[1] = bytes.length & 0xff
    out.set(bytes, 2)
    return out
  }
  const length = 1 + id.length / 2
  const out = new Uint8Array(2 + length)
  out[0] = length >> 8
  out[1] = length & 0xff
  out[2] = RAW_ID
  for (let i = 0, at = 3; i < id.length; i += 2, at++) {
    out[at] = (digit(id.charCodeAt(i)) << 4) | digit(id.charCodeAt(i + 1))
  }
  return out
}

/** The value of a lowercase hex digit's char code. */
function digit(c: number): number {
  return c <= 57 ? c - 48 : c - 87
}

/** The id of a part's bytes (without its length), as {@link idPart} wrote it. */
export function idOfPart(bytes: Uint8Array): string {
  return bytes[0] === RAW_ID ? toHex(bytes.subarray(1)) : textDecoder.decode(bytes)
}

const textDecoder = new TextDecoder()

/**
 * The length-prefixed parts of `k` from byte `at` on, at most `count` of them: each
 * part's bytes (a view) and, last, the bytes after them.
 */
export function readParts(k: Uint8Array, at: number, count: number): Uint8Array[] {
  const parts: Uint8Array[] = []
  while (parts.length < count && at + 2 <= k.length) {
    const length = (k[at]! << 8) | k[at + 1]!
    parts.push(k.subarray(at + 2, at + 2 + length))
    at += 2 + length
  }
  parts.push(k.subarray(at))
  return parts
}

/** A u64 big-endian key part, so keys sort by number (timers by time, blocks by seq). */
export function seqPart(n: number): Uint8Array {
  return u64(Math.max(0, Math.min(Number.MAX_SAFE_INTEGER, Math.floor(n))))
}

/** `prefix | seqPart(n)`: a key built by {@link key} whose last part is a number. */
export function seqKey(prefix: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(prefix.length + 8)
  out.set(prefix)
  out.set(seqPart(n), prefix.length)
  return out
}

/** The range holding every key of one tag. */
export function tagRange(tag: number): { gte: Uint8Array; lt: Uint8Array } {
  return { gte: new Uint8Array([tag]), lt: new Uint8Array([tag + 1]) }
}

/** `key(tag, name)` per tag and collection name, built once (collections are few). */
const namePrefixes = new Map<number, Map<string, Uint8Array>>()

function namePrefix(tag: number, name: string): Uint8Array {
  let byName = namePrefixes.get(tag)
  if (!byName) namePrefixes.set(tag, (byName = new Map()))
  let prefix = byName.get(name)
  if (!prefix) byName.set(name, (prefix = key(tag, name)))
  return prefix
}

/** Key of object `id` of collection `name`: the id's bytes come last, so keys sort by id. */
export function objectKey(name: string, id: string): Uint8Array {
  return concatBytes(namePrefix(TAG.object, name), utf8(id))
}

/** Key of the tombstone of object `id` of collection `name`. */
export function tombstoneKey(name: string, id: string): Uint8Array {
  return concatBytes(namePrefix(TAG.tombstone, name), idPart(id))
}

/** Prefix of the `b` keys of object `id` of collection `name`. */
export function backingPrefix(name: string, id: string): Uint8Array {
  return concatBytes(namePrefix(TAG.backing, name), idPart(id))
}

/**
 * `b` key: block `blockId` (64 B) backs object `id` of collection `name` (never the block
 * whose hex is the object id: the `o` record says whether that one does).
 */
export function backingKey(name: string, id: string, blockId: Uint8Array): Uint8Array {
  return concatBytes(backingPrefix(name, id), blockId)
}

/** Key of object `id` under `orderKey` in order `order` of collection `name`. */
export function orderEntryKey(
  name: string,
  order: string,
  orderKey: string,
  id: string,
): Uint8Array {
  return concatBytes(key(TAG.order, name, order), utf8(orderKey), ZERO, utf8(id))
}

const ZERO = Uint8Array.of(0)

/** The bytes of `parts`, one after the other. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let size = 0
  for (const part of parts) size += part.length
  const out = new Uint8Array(size)
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}

/** Key of the held-block record of block `id` (64 B). */
export function heldKey(id: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(TAG.held), id)
}

/** Prefix of the `c` keys of chain `chainId` (64 B). */
export function chainPrefix(chainId: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(TAG.chain), chainId)
}

/** Key of the block accepted as `seq` in chain `chainId`. */
export function chainBlockKey(chainId: Uint8Array, seq: number): Uint8Array {
  return concatBytes(chainPrefix(chainId), seqPart(seq))
}

/** Key of the claim marker of chain `chainId`: a partial chain was started under that id. */
export function claimKey(chainId: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(TAG.claim), chainId)
}

/** Key of the partial chains started after block `parentId` (64 B): `q` in the table above. */
export function joinsKey(parentId: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(TAG.joins), parentId)
}

/** Key of the released marker of chain `chainId`. */
export function releasedKey(chainId: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(TAG.released), chainId)
}

/**
 * The least key above every key that starts with `prefix`, whatever bytes follow (a raw
 * block id after the prefix may start with 0xff, so `prefix | 0xff` is no bound): the
 * prefix with its last byte below 0xff raised by one and the rest cut. Every prefix here
 * starts with a tag byte below 0xff, so there always is one.
 */
export function prefixTop(prefix: Uint8Array): Uint8Array {
  let end = prefix.length - 1
  while (end > 0 && prefix[end] === 0xff) end--
  const top = prefix.slice(0, end + 1)
  top[end]! += 1
  return top
}
