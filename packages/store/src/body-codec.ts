import { decode, encode } from 'cborg'
import { StoreError } from './errors.ts'

/** What a {@link BlockCodec} makes of a block body. */
export interface DecodedBody {
  /** Block type: the name of the collection it targets, or any tag slices filter on. */
  type: string
  /** The application's payload. */
  payload: unknown
  /** Author's timestamp, milliseconds since the Unix epoch. */
  date: number
}

/**
 * Turns block bodies into `{ type, payload, date }`. The store decodes each block once per
 * dispatch with the codec it is given; {@link cborBlockCodec} is the default.
 */
export interface BlockCodec {
  /**
   * @throws anything when the body is malformed; the store turns it into a `STORE_DECODE`
   *   rejection of that block
   */
  decode(body: Uint8Array): DecodedBody
}

/**
 * Encodes a block body: CBOR (cborg) of the array `[type, payload, date]`, the layout of
 * picostore 3 bodies. The first byte is 0x83, never 0x00, so it is a valid feed body.
 * @param type - block type (a collection name, or a tag slices filter on)
 * @param payload - any CBOR-encodable value (plain objects, arrays, numbers, strings, bytes)
 * @param date - milliseconds since the Unix epoch (default `Date.now()`)
 * @throws STORE_DECODE when `type` is not a string, `date` not a finite number, or the
 *   payload cannot be encoded
 */
export function encodeBlock(type: string, payload: unknown, date: number = Date.now()): Uint8Array {
  if (typeof type !== 'string') throw new StoreError('STORE_DECODE', 'block type must be a string')
  if (!Number.isFinite(date)) throw new StoreError('STORE_DECODE', 'block date must be a number')
  try {
    return encode([type, payload, date])
  } catch (cause) {
    throw new StoreError('STORE_DECODE', 'payload is not CBOR-encodable', { cause })
  }
}

/**
 * Decodes a body made by `encodeBlock` into `{ type, payload, date }`.
 * @throws STORE_DECODE when the body is not CBOR, or not `[string, any, number]`
 */
export function decodeBody(body: Uint8Array): DecodedBody {
  let value: unknown
  try {
    value = decode(body)
  } catch (cause) {
    throw new StoreError('STORE_DECODE', 'block body is not CBOR', { cause })
  }
  if (
    !Array.isArray(value) ||
    value.length !== 3 ||
    typeof value[0] !== 'string' ||
    typeof value[2] !== 'number' ||
    !Number.isFinite(value[2])
  ) {
    throw new StoreError('STORE_DECODE', 'block body is not [type, payload, date]')
  }
  return { type: value[0], payload: value[1], date: value[2] }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** What {@link decodeBlock} returns: the payload's fields (or `payload`), `type` and `date`. */
export interface DecodedBlock {
  /** Block type. */
  type: string
  /** Author's timestamp, ms since the Unix epoch. */
  date: number
  // biome-ignore lint/suspicious/noExplicitAny: payload fields are application-defined
  [field: string]: any
}

/**
 * Decodes a body made by `encodeBlock` for applications: a plain-object payload is
 * spread, `{ ...payload, type, date }` (so `const { type, time } = decodeBlock(body)`
 * works); any other payload comes back as `{ type, date, payload }`.
 * @throws STORE_DECODE when the body is not CBOR, or not `[string, any, number]`
 */
export function decodeBlock(body: Uint8Array): DecodedBlock {
  const { type, payload, date } = decodeBody(body)
  if (isPlainObject(payload)) return { ...payload, type, date }
  return { type, date, payload }
}

/** The default codec: CBOR `[type, payload, date]` bodies ({@link encodeBlock}). */
export const cborBlockCodec: BlockCodec = { decode: decodeBody }
