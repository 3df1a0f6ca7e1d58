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
 * ({@link putIdPart}) a lowercase-hex id of even length is the byte 0xff (never a byte of
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
 * | `q` | block id (64 B) | chain ids (64 B each, raw, one after the other): partial chains started by a block whose parent is this block (its sender claimed their ids), or whose first block has this parent after a dead prefix of theirs was evicted. When the block is held, each such chain still unproven whose first block's parent it is leaves, and its blocks are dispatched again so they join this block's chain; the key goes then (read with the block's `h` key when listed) |
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

/** Bytes of one slab {@link keyBytes} cuts keys from. */
const SLAB_BYTES = 16_384
/** Longest key cut from a slab (a longer one gets a buffer of its own). */
const SLAB_KEY_MAX = 1024
let slab = new ArrayBuffer(SLAB_BYTES)
let slabUsed = 0

/**
 * `size` zero bytes for a key: for 65 B to 1 KB, a view of a shared slab. V8 keeps a typed
 * array of at most 64 B on its heap, and gives a larger one a buffer of its own off the
 * heap (~0.6 us to make on Node 20, and the GC tracks it), where a view costs ~40 ns; the
 * store's keys are mostly 65 to 200 B (a tag and a 64 B block id, a 128-character id).
 * A slab is never written twice; it is freed when no key of it is left. Every key built
 * here goes to the registry, which copies it behind its own prefix, or is kept a little
 * while (a range bound), so slabs do not pile up.
 */
function keyBytes(size: number): Uint8Array {
  if (size <= 64 || size > SLAB_KEY_MAX) return new Uint8Array(size)
  if (slabUsed + size > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES)
    slabUsed = 0
  }
  const out = new Uint8Array(slab, slabUsed, size)
  slabUsed += size
  return out
}

/** Writes `n` (a whole number in 0 .. 2^53 - 1) at `at` as a u64, big-endian. */
function putU64(out: Uint8Array, at: number, n: number): void {
  const high = Math.floor(n / 0x1_0000_0000)
  const low = n >>> 0
  out[at] = high >>> 24
  out[at + 1] = (high >>> 16) & 0xff
  out[at + 2] = (high >>> 8) & 0xff
  out[at + 3] = high & 0xff
  out[at + 4] = low >>> 24
  out[at + 5] = (low >>> 16) & 0xff
  out[at + 6] = (low >>> 8) & 0xff
  out[at + 7] = low & 0xff
}

/**
 * The UTF-8 of `text` as {@link put} writes it: `text` itself when it is ASCII (a byte per
 * char, no encoder call), else its bytes. Either way `.length` is its size in bytes.
 */
function textBytes(text: string): string | Uint8Array {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return utf8(text)
  return text
}

/** Writes `bytes` (or ASCII text from {@link textBytes}) at `at`; returns the end. */
function put(out: Uint8Array, at: number, bytes: string | Uint8Array): number {
  if (typeof bytes !== 'string') {
    out.set(bytes, at)
    return at + bytes.length
  }
  for (let i = 0; i < bytes.length; i++) out[at + i] = bytes.charCodeAt(i)
  return at + bytes.length
}

/** Writes a u16 length `n` at `at`; returns the end. */
function putLength(out: Uint8Array, at: number, n: number): number {
  out[at] = n >> 8
  out[at + 1] = n & 0xff
  return at + 2
}

/** Concatenates a tag and parts; string parts are UTF-8 with a u16 length prefix. */
export function key(tag: number, ...parts: (string | Uint8Array)[]): Uint8Array {
  const bytes: (string | Uint8Array)[] = new Array(parts.length)
  let size = 1
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!
    const b = typeof part === 'string' ? textBytes(part) : part
    bytes[i] = b
    size += b.length + (typeof part === 'string' ? 2 : 0)
  }
  const out = keyBytes(size)
  out[0] = tag
  let at = 1
  for (let i = 0; i < parts.length; i++) {
    const b = bytes[i]!
    if (typeof parts[i] === 'string') at = putLength(out, at, b.length)
    at = put(out, at, b)
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
 * What a compact id key part holds after its u16 length: `null` for a lowercase-hex id of
 * even length (0xff and its raw bytes, {@link idPartSize}), else the id's UTF-8
 * ({@link textBytes}).
 */
function idText(id: string): string | Uint8Array | null {
  return isLowerHex(id) ? null : textBytes(id)
}

/** Size in bytes of the compact id part of `id` (`text`: its {@link idText}), length included. */
function idPartSize(id: string, text: string | Uint8Array | null): number {
  return 2 + (text === null ? 1 + id.length / 2 : text.length)
}

/**
 * Writes the compact id key part of `id` (`text`: its {@link idText}) at `at`, u16 length
 * first: a lowercase-hex id of even length as 0xff and its raw bytes, any other id as its
 * UTF-8. Returns the end.
 */
function putIdPart(out: Uint8Array, at: number, id: string, text: string | Uint8Array | null) {
  if (text !== null) return put(out, putLength(out, at, text.length), text)
  at = putLength(out, at, 1 + id.length / 2)
  out[at++] = RAW_ID
  for (let i = 0; i < id.length; i += 2) {
    out[at++] = (digit(id.charCodeAt(i)) << 4) | digit(id.charCodeAt(i + 1))
  }
  return at
}

/** `prefix`, then the compact id part of `id`, then `tail` (a block id, or nothing). */
function prefixIdKey(prefix: Uint8Array, id: string, tail?: Uint8Array): Uint8Array {
  const text = idText(id)
  const out = keyBytes(prefix.length + idPartSize(id, text) + (tail ? tail.length : 0))
  out.set(prefix)
  const at = putIdPart(out, prefix.length, id, text)
  if (tail) out.set(tail, at)
  return out
}

/** The value of a lowercase hex digit's char code. */
function digit(c: number): number {
  return c <= 57 ? c - 48 : c - 87
}

/** The id of a part's bytes (without its length), as {@link putIdPart} wrote it. */
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

/** `n` as a key's u64 (floored, clamped to 0 .. 2^53 - 1). */
function seqOf(n: number): number {
  return Math.max(0, Math.min(Number.MAX_SAFE_INTEGER, Math.floor(n)))
}

/** A u64 big-endian key part, so keys sort by number (timers by time, blocks by seq). */
export function seqPart(n: number): Uint8Array {
  const out = new Uint8Array(8)
  putU64(out, 0, seqOf(n))
  return out
}

/** `prefix | seqPart(n)`: a key built by {@link key} whose last part is a number. */
export function seqKey(prefix: Uint8Array, n: number): Uint8Array {
  const out = keyBytes(prefix.length + 8)
  out.set(prefix)
  putU64(out, prefix.length, seqOf(n))
  return out
}

/**
 * `t` key of a timer (layout table): tag, `at` as {@link seqPart}, the kind's char, the
 * name (u16 length first), the compact id part of `id`.
 */
export function timerKey(timer: { at: number; kind: string; name: string; id: string }) {
  const name = textBytes(timer.name)
  const text = idText(timer.id)
  const out = keyBytes(1 + 8 + 1 + 2 + name.length + idPartSize(timer.id, text))
  out[0] = TAG.timer
  putU64(out, 1, seqOf(timer.at))
  out[9] = timer.kind.charCodeAt(0)
  putIdPart(out, put(out, putLength(out, 10, name.length), name), timer.id, text)
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
  const prefix = namePrefix(TAG.object, name)
  const text = textBytes(id)
  const out = keyBytes(prefix.length + text.length)
  out.set(prefix)
  put(out, prefix.length, text)
  return out
}

/** Key of the tombstone of object `id` of collection `name`. */
export function tombstoneKey(name: string, id: string): Uint8Array {
  return prefixIdKey(namePrefix(TAG.tombstone, name), id)
}

/** Prefix of the `b` keys of object `id` of collection `name`. */
export function backingPrefix(name: string, id: string): Uint8Array {
  return prefixIdKey(namePrefix(TAG.backing, name), id)
}

/**
 * `b` key: block `blockId` (64 B) backs object `id` of collection `name` (never the block
 * whose hex is the object id: the `o` record says whether that one does).
 */
export function backingKey(name: string, id: string, blockId: Uint8Array): Uint8Array {
  return prefixIdKey(namePrefix(TAG.backing, name), id, blockId)
}

/** `key(TAG.order, name, order)` per collection and order, built once (orders are declared). */
const orderPrefixes = new Map<string, Map<string, Uint8Array>>()

/** Key of object `id` under `orderKey` in order `order` of collection `name`. */
export function orderEntryKey(
  name: string,
  order: string,
  orderKey: string,
  id: string,
): Uint8Array {
  let byOrder = orderPrefixes.get(name)
  if (!byOrder) orderPrefixes.set(name, (byOrder = new Map()))
  let prefix = byOrder.get(order)
  if (!prefix) byOrder.set(order, (prefix = key(TAG.order, name, order)))
  const sortKey = textBytes(orderKey)
  const text = textBytes(id)
  const out = keyBytes(prefix.length + sortKey.length + 1 + text.length)
  out.set(prefix)
  const at = put(out, prefix.length, sortKey) // the byte after it is the 0x00 separator
  put(out, at + 1, text)
  return out
}

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

/** `tag | id`: the key of a record about block or chain `id` (64 B). */
function idKey(tag: number, id: Uint8Array): Uint8Array {
  const out = keyBytes(1 + id.length)
  out[0] = tag
  out.set(id, 1)
  return out
}

/** Key of the held-block record of block `id` (64 B). */
export function heldKey(id: Uint8Array): Uint8Array {
  return idKey(TAG.held, id)
}

/** Prefix of the `c` keys of chain `chainId` (64 B). */
export function chainPrefix(chainId: Uint8Array): Uint8Array {
  return idKey(TAG.chain, chainId)
}

/** Key of the block accepted as `seq` in chain `chainId`. */
export function chainBlockKey(chainId: Uint8Array, seq: number): Uint8Array {
  const out = keyBytes(1 + chainId.length + 8)
  out[0] = TAG.chain
  out.set(chainId, 1)
  putU64(out, 1 + chainId.length, seqOf(seq))
  return out
}

/** Key of the claim marker of chain `chainId`: a partial chain was started under that id. */
export function claimKey(chainId: Uint8Array): Uint8Array {
  return idKey(TAG.claim, chainId)
}

/** Key of the partial chains started after block `parentId` (64 B): `q` in the table above. */
export function joinsKey(parentId: Uint8Array): Uint8Array {
  return idKey(TAG.joins, parentId)
}

/** Key of the released marker of chain `chainId`. */
export function releasedKey(chainId: Uint8Array): Uint8Array {
  return idKey(TAG.released, chainId)
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
