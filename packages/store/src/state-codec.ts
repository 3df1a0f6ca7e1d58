/**
 * CBOR of the records that hold application values (`o`, `s`, `e`, `i`: layout.ts). Ids,
 * keys and signatures reach app state as lowercase hex (`ctx.id`, `AUTHOR`, `CHAIN`), so
 * a string of lowercase hex of even length and at least {@link HEX_MIN} characters is
 * written as CBOR tag 23 ("expected conversion to base16", RFC 8949 §3.4.5.2) around its
 * bytes: a 128-character chain id takes 67 B instead of 130 (but the string the record's
 * key holds: `keep` of {@link encodeState}). Tag 23 around a byte string
 * reads back as the same lowercase-hex string; a bare byte string stays a `Uint8Array`,
 * and any other string (uppercase, odd length, shorter) stays text. Map keys stay text
 * (the map sorts by them as ever). A value with no such string encodes exactly as plain
 * `cborg` encodes it, and plain CBOR decodes as before.
 */
import { fromHex, toHex } from '@picostack/feed'
import {
  decode,
  type EncodeOptions,
  encode,
  objectToTokens,
  type TagDecoder,
  Token,
  Type,
  type TypeEncoder,
} from 'cborg'

/**
 * The shortest string written as bytes, in characters (8 B). Any even length but 2 would
 * save bytes (the tag and byte-string header take 2 B up to 46 characters, text's header 1
 * or 2 B, and half the characters go), but below 16 the saving is a few bytes and short
 * hex-looking words ("facade") are not worth the check.
 */
export const HEX_MIN = 16

/** CBOR tag 23: expected conversion to base16 (RFC 8949 §3.4.5.2). */
const BASE16 = 23

/** True when `s` is lowercase hex of even length, at least {@link HEX_MIN} characters. */
function isHexValue(s: string): boolean {
  const length = s.length
  if (length < HEX_MIN || (length & 1) !== 0) return false
  for (let i = 0; i < length; i++) {
    const c = s.charCodeAt(i)
    if (c > 102 || c < 48 || (c > 57 && c < 97)) return false
  }
  return true
}

const base16 = new Token(Type.tag, BASE16)

/** The string {@link encodeState} leaves as text in the value it is writing, if any. */
let keyText: string | undefined

const hexString: TypeEncoder = (s: string) =>
  isHexValue(s) && s !== keyText ? [base16, new Token(Type.bytes, fromHex(s))] : null

/**
 * A map with a key {@link hexString} would tag: its keys as text (a tagged key would
 * leave cborg's key order undefined), its values as ever. Any other map: cborg's own path.
 */
const textKeys: TypeEncoder = (map, typ, options, refStack) => {
  const isMap = typ === 'Map'
  const keys: unknown[] = isMap ? [...(map as Map<unknown, unknown>).keys()] : Object.keys(map)
  if (!keys.some((k) => typeof k === 'string' && isHexValue(k))) return null
  if (refStack?.includes(map))
    throw new Error('CBOR encode error: object contains circular references')
  const ref = { obj: map, parent: refStack, includes }
  const entries = keys.map((k) => [
    typeof k === 'string' ? new Token(Type.string, k) : objectToTokens(k, options, ref),
    objectToTokens(isMap ? (map as Map<unknown, unknown>).get(k) : map[k as string], options, ref),
  ])
  const { mapSorter } = options as Required<EncodeOptions>
  entries.sort((a, b) => mapSorter(a as Token[], b as Token[]))
  return [new Token(Type.map, entries.length), entries]
}

/** cborg's reference stack (circular-reference check), for the maps {@link textKeys} writes. */
interface Reference {
  obj: object
  parent: Reference | undefined
  includes(obj: object): boolean
}

function includes(this: Reference, obj: object): boolean {
  for (let p: Reference | undefined = this; p; p = p.parent) if (p.obj === obj) return true
  return false
}

const encodeOptions: EncodeOptions = {
  typeEncoders: { string: hexString, Object: textKeys, Map: textKeys },
}

const fromBase16: TagDecoder = (inner) => {
  const bytes = inner()
  if (!(bytes instanceof Uint8Array)) {
    throw new Error('CBOR decode error: tag 23 (base16) around something other than bytes')
  }
  return toHex(bytes)
}

const tags: TagDecoder[] = []
tags[BASE16] = fromBase16

const decodeOptions = { tags }

/**
 * CBOR of a record holding app values: `cborg`'s encoding, with every string value of
 * lowercase hex, even length and at least {@link HEX_MIN} characters as tag 23 around its
 * bytes (1 + header + half the characters instead of header + all of them), but for
 * `keep`: the string the record's key holds as text (an `o` record's object id, an `i`
 * record's index key) stays text, for the database's compression (LevelDB's Snappy)
 * writes that copy as a few bytes of back-reference to the key, where its bytes would be
 * written whole (10,000 to-do-like `o` records in classic-level: 265 B each on disk with
 * the id as text, 317 B with it as bytes).
 * @throws Error (cborg's, no code) for what cborg cannot encode (a function, a circular
 *   reference)
 */
export function encodeState(value: unknown, keep?: string): Uint8Array {
  keyText = keep
  try {
    return encode(value, encodeOptions)
  } finally {
    keyText = undefined
  }
}

/**
 * The value {@link encodeState} (or plain `cborg` `encode`) wrote: tag 23 around a byte
 * string as its lowercase hex, everything else as `cborg` decodes it.
 * @throws Error (cborg's, no code) on malformed CBOR, a tag other than 23, or tag 23
 *   around anything but a byte string
 */
export function decodeState(bytes: Uint8Array): unknown {
  return decode(bytes, decodeOptions)
}
