/**
 * The CBOR encoder of the store's records (records.ts): for the values records hold, byte
 * for byte what cborg's `encode` writes with its default options, written into one reused
 * buffer. cborg's own path costs a to-do task's `o` record (480 B) ~3.7 us and ~8 KB of
 * garbage (an options object, tokens for every map key to sort them, a chunk and a copy);
 * this one writes the bytes directly and sorts a map's keys in place. What it does not
 * cover goes to cborg whole: numbers other than safe integers and infinities, bigints,
 * Maps, objects that are not plain (class instances), typed arrays other than
 * Uint8Array, map keys that are not ASCII, nesting deeper than {@link MAX_DEPTH} (where a
 * circular value would be; cborg then refuses it as before).
 */
import { utf8 } from '@picostack/feed'
import { encode as cborgEncode } from 'cborg'

/** Thrown inside {@link write} for a value cborg encodes instead. */
const ELSEWHERE = Symbol('cborg')

/** Deepest nesting encoded here. */
const MAX_DEPTH = 64

/** Bytes of the reused output buffer (kept between records). */
const KEPT_BYTES = 4096

/** The reused output buffer (a larger record grows it for its own encoding). */
let out = new Uint8Array(KEPT_BYTES)
/** Bytes of {@link out} written so far by the record being encoded. */
let size = 0

/**
 * `value` as CBOR, as cborg's `encode(value)` writes it.
 * @throws as cborg's `encode` (an unsupported type, a circular value)
 */
export function encode(value: unknown): Uint8Array {
  size = 0
  try {
    write(value, 0)
    return out.slice(0, size)
  } catch (cause) {
    if (cause === ELSEWHERE) return cborgEncode(value)
    throw cause
  } finally {
    if (out.length > KEPT_BYTES) out = new Uint8Array(KEPT_BYTES)
  }
}

/** Makes room in {@link out} for `n` more bytes. */
function room(n: number): void {
  if (size + n <= out.length) return
  const larger = new Uint8Array(Math.max(out.length * 2, size + n))
  larger.set(out.subarray(0, size))
  out = larger
}

/** A CBOR head: major type `major` (0-7) and argument `n` (a whole number in 0 .. 2^53 - 1). */
function head(major: number, n: number): void {
  const type = major << 5
  if (n < 24) {
    room(1)
    out[size++] = type | n
  } else if (n < 0x100) {
    room(2)
    out[size++] = type | 24
    out[size++] = n
  } else if (n < 0x1_0000) {
    room(3)
    out[size++] = type | 25
    out[size++] = n >>> 8
    out[size++] = n & 0xff
  } else if (n < 0x1_0000_0000) {
    room(5)
    out[size++] = type | 26
    put32(n)
  } else {
    room(9)
    out[size++] = type | 27
    put32(Math.floor(n / 0x1_0000_0000))
    put32(n >>> 0)
  }
}

function put32(n: number): void {
  out[size++] = n >>> 24
  out[size++] = (n >>> 16) & 0xff
  out[size++] = (n >>> 8) & 0xff
  out[size++] = n & 0xff
}

/** True when every char of `text` is ASCII (then its UTF-8 is its char codes). */
function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false
  return true
}

/** Strings at least this long are written by the encoder (native), shorter ones char by char. */
const NATIVE_FROM = 16

const textEncoder = new TextEncoder()

function writeString(text: string): void {
  const n = text.length
  if (n >= NATIVE_FROM) {
    // Written as if ASCII (n bytes): when all n chars fit in n bytes, it was.
    const mark = size
    head(3, n)
    room(n)
    const { read, written } = textEncoder.encodeInto(text, out.subarray(size, size + n))
    if (read === n && written === n) {
      size += n
      return
    }
    size = mark
  } else if (isAscii(text)) {
    head(3, n)
    room(n)
    const bytes = out
    const at = size
    for (let i = 0; i < n; i++) bytes[at + i] = text.charCodeAt(i)
    size = at + n
    return
  }
  const bytes = utf8(text)
  head(3, bytes.length)
  room(bytes.length)
  out.set(bytes, size)
  size += bytes.length
}

/** Writes `value` at {@link size}; throws {@link ELSEWHERE} for what cborg encodes instead. */
function write(value: unknown, depth: number): void {
  switch (typeof value) {
    case 'string':
      writeString(value)
      return
    case 'number':
      if (Number.isSafeInteger(value)) {
        if (value >= 0) head(0, value)
        else head(1, -value - 1)
      } else if (value === Number.POSITIVE_INFINITY || value === Number.NEGATIVE_INFINITY) {
        room(3) // cborg writes an infinity as a half-precision float
        out[size++] = 0xf9
        out[size++] = value > 0 ? 0x7c : 0xfc
        out[size++] = 0
      } else throw ELSEWHERE
      return
    case 'boolean':
      room(1)
      out[size++] = value ? 0xf5 : 0xf4
      return
    case 'undefined':
      room(1)
      out[size++] = 0xf7
      return
    case 'object':
      break
    default:
      throw ELSEWHERE
  }
  if (value === null) {
    room(1)
    out[size++] = 0xf6
    return
  }
  if (depth >= MAX_DEPTH) throw ELSEWHERE
  if (Array.isArray(value)) {
    head(4, value.length)
    for (let i = 0; i < value.length; i++) write(value[i], depth + 1)
    return
  }
  if (value instanceof Uint8Array) {
    head(2, value.length)
    room(value.length)
    out.set(value, size)
    size += value.length
    return
  }
  const proto = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) throw ELSEWHERE
  const keys = Object.keys(value)
  sortKeys(keys)
  head(5, keys.length)
  for (const k of keys) {
    writeString(k)
    write((value as Record<string, unknown>)[k], depth + 1)
  }
}

/**
 * Sorts map keys as cborg does (its default `mapSorter`: shorter UTF-8 first, then byte
 * order), in place; for ASCII keys byte order is char order. Insertion sort: maps are
 * small.
 */
function sortKeys(keys: string[]): void {
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!
    if (!isAscii(k)) throw ELSEWHERE
    let j = i
    while (j > 0 && before(k, keys[j - 1]!)) {
      keys[j] = keys[j - 1]!
      j--
    }
    keys[j] = k
  }
}

function before(a: string, b: string): boolean {
  return a.length < b.length || (a.length === b.length && a < b)
}
