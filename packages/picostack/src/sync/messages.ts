/**
 * The sync protocol's messages (docs/protocol.md): each is one CBOR array (RFC 8949,
 * encoded by cborg) whose first item is the message type.
 *
 * ```
 * hello   = [1, version, nodeId(16 B), nonce(8 B)]
 * patch   = [3, [[chainId(64 B), height, blocks] | blocks | [blocks], ...]]   request: ack
 *           or error; one segment per chain (consecutive blocks, height of the first; a feed
 *           without its `PIC0`); two short forms: the blocks alone start with their chain's
 *           genesis (chain id = its signature), `[blocks]` at height 2 (chain id = the first
 *           block's parent, the genesis)
 * want    = [4, chainId(64 B), height, headId(64 B or empty)]   "I hold this chain up to headId"
 * ack     = [5, accepted]                              reply to a patch
 * error   = [6, code(text), reason(text)]
 * query   = [7, payload bytes]                         request: answer or error
 * answer  = [8, payload bytes]
 * ping    = [9]                                        keepalive, one-way
 * signal  = [10, payload bytes]                        signalling (src/signal), one-way
 * ranges  = [11, salt(16 B, or 0 B), [range entry, ...], resume(nibbles, or 0 B)]   reconciliation
 * have    = [12, [[chainId(64 B), headId(64 B), height], ...]]   announced heads, one-way
 * ```
 * (Type 2 was version 1's summary; it is not used.)
 */
import { Block, bytesEqual, MAGIC } from '@picostack/feed'
import { decode, encode } from 'cborg'
import { KernelError } from '../errors.ts'
import { DEFAULT_SYNC_LIMITS, NODE_ID_BYTES, NONCE_BYTES } from './limits.ts'
import {
  type ChainHead,
  decodeRangeEntries,
  prefixOf,
  type RangeEntry,
  rangeEntriesValue,
} from './ranges.ts'
import { SALT_BYTES } from './salted-hash.ts'

export type { ChainHead } from './ranges.ts'

/** Largest height or count a message may carry: 2^32 - 1, what the repo stores (u32). */
export const MAX_HEIGHT = 0xffff_ffff
/** Longest error code, in characters. */
export const MAX_ERROR_CODE_CHARS = 64
/** Longest error reason, in characters (longer ones are cut when encoding). */
export const MAX_ERROR_REASON_CHARS = 1024

/** Message type numbers (the first item of every message). */
export const MessageType = {
  /** {@link Hello} */
  hello: 1,
  /** {@link Patch} */
  patch: 3,
  /** {@link Want} */
  want: 4,
  /** {@link Ack} */
  ack: 5,
  /** {@link ErrorMessage} */
  error: 6,
  /** {@link Query} */
  query: 7,
  /** {@link Answer} */
  answer: 8,
  /** {@link Ping} */
  ping: 9,
  /** {@link SyncSignal} */
  signal: 10,
  /** {@link Ranges} */
  ranges: 11,
  /** {@link Have} */
  have: 12,
} as const

/** First message in each direction. */
export interface Hello {
  /** Message type. */
  type: 'hello'
  /** Protocol version ({@link PROTOCOL_VERSION}). */
  version: number
  /** Random per kernel run (16 B). */
  nodeId: Uint8Array // 16 B, random per kernel run
  /** Random per connection (8 B). */
  nonce: Uint8Array // 8 B, random per connection
}

/** Consecutive blocks of one chain, as feed bytes; `height` is the first block's height. */
export interface Segment {
  /** The chain's id (64 B). */
  chainId: Uint8Array // 64 B
  /** Height of the segment's first block (genesis = 1). */
  height: number
  /** `PIC0` then the blocks, in chain order. */
  feed: Uint8Array
}

/** Blocks of one or more chains: one segment per chain, handled in order. */
export interface Patch {
  /** Message type. */
  type: 'patch'
  /** 1 to `maxPatchChains` segments, `maxPatchBytes` of feed together. */
  segments: Segment[]
}

/** "I hold this chain up to `headId` (at `height`)": asks for every block after it. */
export interface Want {
  /** Message type. */
  type: 'want'
  /** The chain's id (64 B). */
  chainId: Uint8Array // 64 B
  /** Height of `headId` in the asker's numbering. */
  height: number
  /** The newest block the asker holds (64 B); `undefined`: nothing, send all. */
  headId: Uint8Array | undefined // 64 B; undefined: nothing held, send all
}

/** Reply to a patch: how many of its blocks the receiver accepted. */
export interface Ack {
  /** Message type. */
  type: 'ack'
  /** Blocks the receiver's store merged, all segments together. */
  accepted: number
}

/** A typed refusal: `code` is a stable error code (`KERNEL_*`, `FEED_*`, `STORE_*`). */
export interface ErrorMessage {
  /** Message type. */
  type: 'error'
  /** Stable error code, at most 64 characters. */
  code: string
  /** Human-readable reason, at most 1024 characters. */
  reason: string
}

/** An application request (answered by the receiver's `onquery`). */
export interface Query {
  /** Message type. */
  type: 'query'
  /** At most `maxQueryBytes`. */
  payload: Uint8Array
}

/** Reply to a query. */
export interface Answer {
  /** Message type. */
  type: 'answer'
  /** At most `maxQueryBytes`. */
  payload: Uint8Array
}

/** Keepalive: sent after `keepaliveMs` without sending anything else, so the peer's idle timeout does not close an honest idle session. */
export interface Ping {
  /** Message type. */
  type: 'ping'
}

/**
 * A signalling message for direct links (docs/webrtc.md); its payload is decoded and bounded
 * by the receiver's signalling (`src/signal`), not here.
 */
export interface SyncSignal {
  /** Message type. */
  type: 'signal'
  /** At most `maxMessageBytes` here; signalling refuses more than its `maxSignalBytes`. */
  payload: Uint8Array
}

/**
 * One step of range-based set reconciliation (docs/protocol.md, "Reconciliation"): entries
 * answering the peer's previous `ranges` message, in strictly ascending trie order.
 */
export interface Ranges {
  /** Message type. */
  type: 'ranges'
  /**
   * The pass's salt ({@link SALT_BYTES}), exactly on the first message of a pass (its
   * entries answer nothing); `undefined` on the others.
   */
  salt: Uint8Array | undefined
  /** At most `maxRanges` entries, `maxItems` tags and heads together. */
  entries: RangeEntry[]
  /**
   * Where the sender stopped answering (the prefix of the first entry it dropped to stay
   * within the caps); the pass that follows resumes there. `undefined`: nothing dropped.
   */
  resume: Uint8Array | undefined
}

/**
 * Most bytes one head takes in a `have` message: a 3-item CBOR array (1 B), two 64-B byte
 * strings (2 B of header each) and a height of up to 5 B.
 */
export const MAX_HAVE_HEAD_BYTES = 1 + 2 * (2 + 64) + 5

/** Bytes of a `have` message besides its heads, at most (type, array headers). */
export const HAVE_OVERHEAD_BYTES = 8

/** "I now hold these heads": new blocks announced lazily (the peer sends `want` if it lacks them). */
export interface Have {
  /** Message type. */
  type: 'have'
  /** 1 to `maxItems` heads. */
  heads: ChainHead[]
}

/** Any protocol message. */
export type Message =
  | Hello
  | Patch
  | Want
  | Ack
  | ErrorMessage
  | Query
  | Answer
  | Ping
  | SyncSignal
  | Ranges
  | Have

const EMPTY = new Uint8Array(0)

/** Encodes a message to bytes (error reasons are cut to {@link MAX_ERROR_REASON_CHARS}). */
export function encodeMessage(message: Message): Uint8Array {
  switch (message.type) {
    case 'hello':
      return encode([MessageType.hello, message.version, message.nodeId, message.nonce])
    case 'patch':
      return encode([MessageType.patch, message.segments.map(segmentValue)])
    case 'want':
      return encode([MessageType.want, message.chainId, message.height, message.headId ?? EMPTY])
    case 'ack':
      return encode([MessageType.ack, message.accepted])
    case 'error':
      return encode([
        MessageType.error,
        message.code.slice(0, MAX_ERROR_CODE_CHARS),
        message.reason.slice(0, MAX_ERROR_REASON_CHARS),
      ])
    case 'query':
      return encode([MessageType.query, message.payload])
    case 'answer':
      return encode([MessageType.answer, message.payload])
    case 'ping':
      return encode([MessageType.ping])
    case 'signal':
      return encode([MessageType.signal, message.payload])
    case 'ranges':
      return encode([
        MessageType.ranges,
        message.salt ?? EMPTY,
        rangeEntriesValue(message.entries),
        message.resume ?? EMPTY,
      ])
    case 'have':
      return encode([MessageType.have, message.heads.map((h) => [h.chainId, h.headId, h.height])])
  }
}

/** Bytes of `PIC0` before a feed's first block. */
const MAGIC_BYTES = MAGIC.length
/** Bytes of a block id (its signature), the first bytes of a block. */
const ID_BYTES = 64

/**
 * A segment on the wire: its feed's blocks without `PIC0` (every segment's feed starts with
 * it), alone when the first block is its chain's genesis (at height 1, whose signature is
 * the chain id: sending the id again would repeat 64 B), `[blocks]` at height 2 when the
 * first block's parent is the chain id (the genesis), else `[chainId, height, blocks]`.
 */
function segmentValue(s: Segment): unknown {
  const blocks = s.feed.subarray(MAGIC_BYTES)
  if (s.height === 1 && bytesEqual(blocks.subarray(0, ID_BYTES), s.chainId)) return blocks
  if (s.height !== 2) return [s.chainId, s.height, blocks]
  const parent = firstBlock(blocks)?.psig
  return parent && bytesEqual(parent, s.chainId) ? [blocks] : [s.chainId, s.height, blocks]
}

/** The first block of `blocks`, or `undefined` when they do not start with one. */
function firstBlock(blocks: Uint8Array): Block | undefined {
  try {
    return new Block(blocks)
  } catch {
    return undefined
  }
}

/** A segment's feed: `PIC0`, then the blocks received. */
function feedOf(blocks: Uint8Array): Uint8Array {
  const feed = new Uint8Array(MAGIC_BYTES + blocks.length)
  feed.set(MAGIC)
  feed.set(blocks, MAGIC_BYTES)
  return feed
}

function fail(what: string): never {
  throw new KernelError('KERNEL_PROTOCOL', what)
}

function bytes(value: unknown, length: number | undefined, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) fail(`${what} must be bytes`)
  if (length !== undefined && value.length !== length) fail(`${what} must be ${length} bytes`)
  return value
}

function count(value: unknown, what: string, min = 0): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > MAX_HEIGHT) {
    fail(`${what} must be an integer from ${min} to ${MAX_HEIGHT}`)
  }
  return value
}

function text(value: unknown, max: number, what: string): string {
  if (typeof value !== 'string' || value.length > max) fail(`${what} must be text of <= ${max}`)
  return value
}

function fields(value: unknown, n: number, what: string): unknown[] {
  if (!Array.isArray(value) || value.length !== n) fail(`${what} must be an array of ${n}`)
  return value
}

/** Limits {@link decodeMessage} enforces beyond shapes. */
export interface DecodeLimits {
  /** Most segments (chains) in one patch. */
  maxPatchChains: number
  /** Most payload bytes in a query or answer. */
  maxQueryBytes: number
  /** Most entries in one `ranges` message (default {@link DEFAULT_SYNC_LIMITS}). */
  maxRanges?: number
  /** Most item tags and heads in one `ranges` or `have` message (default {@link DEFAULT_SYNC_LIMITS}). */
  maxItems?: number
}

/**
 * Decodes and validates one message; shapes and sizes are checked field by field.
 * @throws KERNEL_PROTOCOL when the bytes are not CBOR or not a well-formed message
 * @throws KERNEL_TOO_LARGE when a patch has more than `maxPatchChains` segments, a
 *   query/answer payload exceeds `maxQueryBytes`, a `ranges` message more than `maxRanges`
 *   entries, or a `ranges` or `have` message more than `maxItems` tags and heads
 */
export function decodeMessage(data: Uint8Array, limits: DecodeLimits): Message {
  let value: unknown
  try {
    value = decode(data, { strict: true, rejectDuplicateMapKeys: true, allowUndefined: false })
  } catch (cause) {
    throw new KernelError('KERNEL_PROTOCOL', 'message is not CBOR', { cause })
  }
  if (!Array.isArray(value) || value.length === 0) fail('message must be a non-empty array')
  switch (value[0]) {
    case MessageType.hello: {
      const [, version, nodeId, nonce] = fields(value, 4, 'hello')
      return {
        type: 'hello',
        version: count(version, 'version'),
        nodeId: bytes(nodeId, NODE_ID_BYTES, 'node id'),
        nonce: bytes(nonce, NONCE_BYTES, 'nonce'),
      }
    }
    case MessageType.patch: {
      const [, list] = fields(value, 2, 'patch')
      if (!Array.isArray(list) || list.length === 0)
        fail('patch segments must be a non-empty array')
      if (list.length > limits.maxPatchChains) {
        throw new KernelError(
          'KERNEL_TOO_LARGE',
          `patch of ${list.length} chains, limit ${limits.maxPatchChains}`,
        )
      }
      const segments = list.map((entry: unknown) => {
        if (entry instanceof Uint8Array) {
          // The short form: the chain id is the first block's id, which must be a genesis.
          if (entry.length < ID_BYTES) fail('a short segment must hold a block')
          return { chainId: entry.slice(0, ID_BYTES), height: 1, feed: feedOf(entry) }
        }
        if (Array.isArray(entry) && entry.length === 1) {
          // At height 2: the chain id is the first block's parent (its genesis).
          const blocks = bytes(entry[0], undefined, 'segment blocks')
          const first = firstBlock(blocks)
          if (!first || first.genesis) fail('a height 2 segment must start with a child block')
          return { chainId: first.psig.slice(), height: 2, feed: feedOf(blocks) }
        }
        const [chainId, height, blocks] = fields(entry, 3, 'patch segment')
        return {
          chainId: bytes(chainId, 64, 'chain id'),
          height: count(height, 'height', 1),
          feed: feedOf(bytes(blocks, undefined, 'segment blocks')),
        }
      })
      return { type: 'patch', segments }
    }
    case MessageType.want: {
      const [, chainId, height, headId] = fields(value, 4, 'want')
      const head = bytes(headId, undefined, 'head id')
      if (head.length !== 0 && head.length !== 64) fail('want head id must be 64 or 0 bytes')
      return {
        type: 'want',
        chainId: bytes(chainId, 64, 'chain id'),
        height: count(height, 'height'),
        headId: head.length === 0 ? undefined : head,
      }
    }
    case MessageType.ack: {
      const [, accepted] = fields(value, 2, 'ack')
      return { type: 'ack', accepted: count(accepted, 'accepted') }
    }
    case MessageType.error: {
      const [, code, reason] = fields(value, 3, 'error')
      return {
        type: 'error',
        code: text(code, MAX_ERROR_CODE_CHARS, 'error code'),
        reason: text(reason, MAX_ERROR_REASON_CHARS, 'error reason'),
      }
    }
    case MessageType.query:
    case MessageType.answer: {
      const [type, payload] = fields(value, 2, 'query')
      const body = bytes(payload, undefined, 'payload')
      if (body.length > limits.maxQueryBytes) {
        throw new KernelError(
          'KERNEL_TOO_LARGE',
          `payload of ${body.length} bytes, limit ${limits.maxQueryBytes}`,
        )
      }
      return { type: type === MessageType.query ? 'query' : 'answer', payload: body }
    }
    case MessageType.ping: {
      fields(value, 1, 'ping')
      return { type: 'ping' }
    }
    case MessageType.signal: {
      const [, payload] = fields(value, 2, 'signal')
      return { type: 'signal', payload: bytes(payload, undefined, 'signal payload') }
    }
    case MessageType.ranges: {
      const [, saltValue, list, resume] = fields(value, 4, 'ranges')
      const salt = bytes(saltValue, undefined, 'ranges salt')
      if (salt.length !== 0 && salt.length !== SALT_BYTES) {
        fail(`a ranges salt must be ${SALT_BYTES} or 0 bytes`)
      }
      const entries = decodeRangeEntries(list, {
        maxRanges: limits.maxRanges ?? DEFAULT_SYNC_LIMITS.maxRanges,
        maxItems: limits.maxItems ?? DEFAULT_SYNC_LIMITS.maxItems,
      })
      const at = prefixOf(resume)
      return {
        type: 'ranges',
        salt: salt.length === 0 ? undefined : salt,
        entries,
        resume: at.length === 0 ? undefined : at,
      }
    }
    case MessageType.have: {
      const [, list] = fields(value, 2, 'have')
      const maxItems = limits.maxItems ?? DEFAULT_SYNC_LIMITS.maxItems
      if (!Array.isArray(list) || list.length === 0) fail('have heads must be a non-empty array')
      if (list.length > maxItems) {
        throw new KernelError('KERNEL_TOO_LARGE', `have of ${list.length} heads, limit ${maxItems}`)
      }
      const heads = list.map((entry: unknown) => {
        const [chainId, headId, height] = fields(entry, 3, 'have head')
        return {
          chainId: bytes(chainId, 64, 'chain id'),
          headId: bytes(headId, 64, 'head id'),
          height: count(height, 'height', 1),
        }
      })
      return { type: 'have', heads }
    }
    default:
      return fail(`unknown message type ${String(value[0])}`)
  }
}
