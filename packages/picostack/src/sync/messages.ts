/**
 * The sync protocol's messages (docs/protocol.md): each is one CBOR array (RFC 8949,
 * encoded by cborg) whose first item is the message type.
 *
 * ```
 * hello   = [1, version, nodeId(16 B), nonce(8 B)]
 * summary = [2, [[chainId(64 B), author(32 B), headId(64 B), height], ...], last(bool)]
 * patch   = [3, [[chainId(64 B), height, feed bytes], ...]]   request: ack or error; one
 *           segment per chain (consecutive blocks, height of the first)
 * want    = [4, chainId(64 B), height, headId(64 B or empty)]   "I hold this chain up to headId"
 * ack     = [5, accepted]                              reply to a patch
 * error   = [6, code(text), reason(text)]
 * query   = [7, payload bytes]                         request: answer or error
 * answer  = [8, payload bytes]
 * ping    = [9]                                        keepalive, one-way
 * signal  = [10, payload bytes]                        signalling (src/signal), one-way
 * ```
 */
import { decode, encode } from 'cborg'
import { KernelError } from '../errors.ts'
import { NODE_ID_BYTES, NONCE_BYTES } from './limits.ts'

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
  /** {@link Summary} */
  summary: 2,
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

/** One chain a peer holds. */
export interface ChainHead {
  /** Chain id: the genesis block's signature (64 B). */
  chainId: Uint8Array // 64 B, genesis sig
  /** The chain's owner (32 B public key). */
  author: Uint8Array // 32 B, chain owner
  /** Newest block's id (64 B). */
  headId: Uint8Array // 64 B
  /** Blocks from genesis to head; genesis = 1. */
  height: number // blocks from genesis to head; genesis = 1
}

/** A page of the sender's chains; `last` marks the final page. */
export interface Summary {
  /** Message type. */
  type: 'summary'
  /** At most `maxSummaryChains` chains. */
  chains: ChainHead[]
  /** True on the final page. */
  last: boolean
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

/** Any protocol message. */
export type Message =
  | Hello
  | Summary
  | Patch
  | Want
  | Ack
  | ErrorMessage
  | Query
  | Answer
  | Ping
  | SyncSignal

const EMPTY = new Uint8Array(0)

/** Encodes a message to bytes (error reasons are cut to {@link MAX_ERROR_REASON_CHARS}). */
export function encodeMessage(message: Message): Uint8Array {
  switch (message.type) {
    case 'hello':
      return encode([MessageType.hello, message.version, message.nodeId, message.nonce])
    case 'summary':
      return encode([
        MessageType.summary,
        message.chains.map((c) => [c.chainId, c.author, c.headId, c.height]),
        message.last,
      ])
    case 'patch':
      return encode([MessageType.patch, message.segments.map((s) => [s.chainId, s.height, s.feed])])
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
  }
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
  /** Most chains in one summary page. */
  maxSummaryChains: number
  /** Most segments (chains) in one patch. */
  maxPatchChains: number
  /** Most payload bytes in a query or answer. */
  maxQueryBytes: number
}

/**
 * Decodes and validates one message; shapes and sizes are checked field by field.
 * @throws KERNEL_PROTOCOL when the bytes are not CBOR or not a well-formed message
 * @throws KERNEL_TOO_LARGE when a summary page lists more than `maxSummaryChains` chains,
 *   a patch more than `maxPatchChains` segments, or a query/answer payload exceeds
 *   `maxQueryBytes`
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
    case MessageType.summary: {
      const [, list, last] = fields(value, 3, 'summary')
      if (!Array.isArray(list)) fail('summary chains must be an array')
      if (list.length > limits.maxSummaryChains) {
        throw new KernelError(
          'KERNEL_TOO_LARGE',
          `summary lists ${list.length} chains, limit ${limits.maxSummaryChains}`,
        )
      }
      if (typeof last !== 'boolean') fail('summary last must be a boolean')
      const chains = list.map((entry: unknown) => {
        const [chainId, author, headId, height] = fields(entry, 4, 'summary entry')
        return {
          chainId: bytes(chainId, 64, 'chain id'),
          author: bytes(author, 32, 'author'),
          headId: bytes(headId, 64, 'head id'),
          height: count(height, 'height', 1),
        }
      })
      return { type: 'summary', chains, last }
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
        const [chainId, height, feed] = fields(entry, 3, 'patch segment')
        return {
          chainId: bytes(chainId, 64, 'chain id'),
          height: count(height, 'height', 1),
          feed: bytes(feed, undefined, 'feed'),
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
    default:
      return fail(`unknown message type ${String(value[0])}`)
  }
}
