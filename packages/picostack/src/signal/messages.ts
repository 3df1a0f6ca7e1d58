/**
 * Signalling messages (docs/webrtc.md): each is the payload of one sync-protocol `signal`
 * message (`[9, payload]`), itself one CBOR array (RFC 8949, encoded by cborg) whose first
 * item is its kind.
 *
 * ```
 * direct    = [1]                        "I take direct links" (to every peer, once)
 * peers     = [2, [nodeId(16 B), ...]]   introducer -> peer: peers it can introduce
 * forward   = [3, to(16 B), rtc]         peer -> introducer: pass rtc on to `to`
 * forwarded = [4, from(16 B), rtc]       introducer -> peer: `from` sent rtc (stamped by it)
 * rtc       = [1, sdp] offer | [2, sdp] answer
 *           | [3, candidate, sdpMid | null, sdpMLineIndex | null] candidate
 *           | [4, code(text)] refused (a KERNEL_* code)
 * ```
 */
import { MAX_CANDIDATE_CHARS, MAX_SDP_CHARS, type RtcSignal } from '@picostack/net'
import { decode, encode } from 'cborg'
import { KernelError } from '../errors.ts'
import { NODE_ID_BYTES } from '../sync/limits.ts'
import { MAX_ERROR_CODE_CHARS } from '../sync/messages.ts'

/** What travels between two peers through an introducer: a WebRTC signal or a refusal. */
export type RtcEnvelope = RtcSignal | { type: 'refused'; code: string }

/** Any signalling message. */
export type SignalMessage =
  | { kind: 'direct' }
  | { kind: 'peers'; nodeIds: Uint8Array[] }
  | { kind: 'forward'; to: Uint8Array; rtc: RtcEnvelope }
  | { kind: 'forwarded'; from: Uint8Array; rtc: RtcEnvelope }

const KIND = { direct: 1, peers: 2, forward: 3, forwarded: 4 } as const
const RTC = { offer: 1, answer: 2, candidate: 3, refused: 4 } as const

function encodeRtc(rtc: RtcEnvelope): unknown[] {
  switch (rtc.type) {
    case 'offer':
    case 'answer':
      return [RTC[rtc.type], rtc.sdp]
    case 'candidate':
      return [RTC.candidate, rtc.candidate, rtc.sdpMid, rtc.sdpMLineIndex]
    case 'refused':
      return [RTC.refused, rtc.code.slice(0, MAX_ERROR_CODE_CHARS)]
  }
}

/** Encodes a signalling message. */
export function encodeSignal(message: SignalMessage): Uint8Array {
  switch (message.kind) {
    case 'direct':
      return encode([KIND.direct])
    case 'peers':
      return encode([KIND.peers, message.nodeIds])
    case 'forward':
      return encode([KIND.forward, message.to, encodeRtc(message.rtc)])
    case 'forwarded':
      return encode([KIND.forwarded, message.from, encodeRtc(message.rtc)])
  }
}

function fail(what: string): never {
  throw new KernelError('KERNEL_PROTOCOL', `signal: ${what}`)
}

function nodeId(value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== NODE_ID_BYTES) {
    fail(`a node id must be ${NODE_ID_BYTES} bytes`)
  }
  return value
}

function text(value: unknown, max: number, what: string): string {
  if (typeof value !== 'string' || value.length > max) fail(`${what} must be text of <= ${max}`)
  return value
}

function decodeRtc(value: unknown): RtcEnvelope {
  if (!Array.isArray(value) || value.length === 0) fail('rtc must be a non-empty array')
  const [type, a, b, c] = value
  const arity = (n: number) => {
    if (value.length !== n) fail(`rtc kind ${type} must have ${n} items`)
  }
  switch (type) {
    case RTC.offer:
    case RTC.answer:
      arity(2)
      return { type: type === RTC.offer ? 'offer' : 'answer', sdp: text(a, MAX_SDP_CHARS, 'sdp') }
    case RTC.candidate:
      arity(4)
      if (b !== null && typeof b !== 'string') fail('sdpMid must be text or null')
      if (c !== null && !(Number.isInteger(c) && c >= 0 && c <= 0xffff)) {
        fail('sdpMLineIndex must be an integer 0..65535 or null')
      }
      return {
        type: 'candidate',
        candidate: text(a, MAX_CANDIDATE_CHARS, 'candidate'),
        sdpMid: b === null ? null : text(b, 64, 'sdpMid'),
        sdpMLineIndex: c,
      }
    case RTC.refused:
      arity(2)
      return { type: 'refused', code: text(a, MAX_ERROR_CODE_CHARS, 'code') }
    default:
      return fail(`unknown rtc kind ${String(type)}`)
  }
}

/**
 * Decodes and checks one signalling message.
 * @param maxSignalBytes - larger payloads are refused before decoding
 * @param maxIntroductions - most node ids in a `peers` list
 * @throws KERNEL_TOO_LARGE past `maxSignalBytes` or `maxIntroductions`
 * @throws KERNEL_PROTOCOL when the bytes are not CBOR or not a well-formed message
 */
export function decodeSignal(
  payload: Uint8Array,
  maxSignalBytes: number,
  maxIntroductions: number,
): SignalMessage {
  if (payload.length > maxSignalBytes) {
    throw new KernelError(
      'KERNEL_TOO_LARGE',
      `signal of ${payload.length} bytes, limit ${maxSignalBytes}`,
    )
  }
  let value: unknown
  try {
    value = decode(payload, { strict: true, rejectDuplicateMapKeys: true, allowUndefined: false })
  } catch (cause) {
    throw new KernelError('KERNEL_PROTOCOL', 'signal: not CBOR', { cause })
  }
  if (!Array.isArray(value) || value.length === 0) fail('a message must be a non-empty array')
  const arity = (n: number) => {
    if (value.length !== n) fail(`kind ${value[0]} must have ${n} items`)
  }
  switch (value[0]) {
    case KIND.direct:
      arity(1)
      return { kind: 'direct' }
    case KIND.peers: {
      arity(2)
      const list = value[1]
      if (!Array.isArray(list)) fail('peers must be an array')
      if (list.length > maxIntroductions) {
        throw new KernelError(
          'KERNEL_TOO_LARGE',
          `a list of ${list.length} peers, limit ${maxIntroductions}`,
        )
      }
      return { kind: 'peers', nodeIds: list.map(nodeId) }
    }
    case KIND.forward:
      arity(3)
      return { kind: 'forward', to: nodeId(value[1]), rtc: decodeRtc(value[2]) }
    case KIND.forwarded:
      arity(3)
      return { kind: 'forwarded', from: nodeId(value[1]), rtc: decodeRtc(value[2]) }
    default:
      return fail(`unknown kind ${String(value[0])}`)
  }
}
