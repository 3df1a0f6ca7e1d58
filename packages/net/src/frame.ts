import { plainBytes } from './bytes.ts'
import { NetError } from './errors.ts'
import { MIN_PARTIAL_FRAME_BYTES, PartialFrame } from './partial-frame.ts'
import { VARINT_MAX_VALUE, VarintReader, varintEncode, varintLength } from './varint.ts'

export { MIN_PARTIAL_FRAME_BYTES }

/**
 * Frames carry wire messages over byte transports (TCP, hyperswarm, WebSocket):
 *
 * ```
 * varint length | dstPort u16 BE | srcPort u16 BE | flags u8 | payload
 * ```
 *
 * `length` counts everything after itself: {@link FRAME_HEADER_BYTES} + payload bytes.
 */
export const FRAME_HEADER_BYTES = 5

/** Flag: the sender waits for a reply on `srcPort` (which is then non-zero). */
export const FLAG_REPLY_EXPECTED = 0x01
/** Flag: the payload is a UTF-8 error text (an error reply, or the reason of a close). */
export const FLAG_ERROR = 0x02
/** Flag: the sender closes the wire (ports are 0; payload empty unless {@link FLAG_ERROR}). */
export const FLAG_CLOSE = 0x04
/** Bits that must be zero. */
const RESERVED_FLAGS = ~(FLAG_REPLY_EXPECTED | FLAG_ERROR | FLAG_CLOSE) & 0xff

/** Default largest payload a frame may carry: 1 MiB (the header is not counted). */
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024

/** Largest port number (u16). Port 0 means "the receiver's onmessage" / "no reply wanted". */
export const MAX_PORT = 0xffff

/** One decoded frame. */
export interface Frame {
  /** Receiver's channel awaiting this message as a reply; 0 = deliver to `onmessage`. */
  dstPort: number
  /** Sender's channel awaiting a reply to this message; 0 = no reply wanted. */
  srcPort: number
  /** Bit set of `FLAG_*`. */
  flags: number
  /** Message bytes (a plain Uint8Array the receiver owns). */
  payload: Uint8Array
}

/** Why a header is invalid, or `undefined` when it is valid. */
function headerProblem(
  dstPort: number,
  srcPort: number,
  flags: number,
  payloadBytes: number,
): string | undefined {
  if (flags & RESERVED_FLAGS) return `reserved flag bits set: ${flags}`
  if (flags & FLAG_CLOSE) {
    if (dstPort !== 0 || srcPort !== 0) return 'close frame with ports'
    if (flags & FLAG_REPLY_EXPECTED) return 'close frame expecting a reply'
    if (!(flags & FLAG_ERROR) && payloadBytes > 0) return 'clean close frame with payload'
    return undefined
  }
  if (flags & FLAG_ERROR) {
    if (flags & FLAG_REPLY_EXPECTED) return 'error reply expecting a reply'
    if (dstPort === 0) return 'error reply without destination port'
    if (srcPort !== 0) return 'error reply with source port'
    return undefined
  }
  const replyExpected = (flags & FLAG_REPLY_EXPECTED) !== 0
  if (replyExpected !== (srcPort !== 0)) {
    return 'srcPort must be non-zero exactly when a reply is expected'
  }
  return undefined
}

function isPort(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= MAX_PORT
}

/** Checks a frame size limit option. */
export function checkMaxFrameBytes(maxFrameBytes: number): number {
  if (
    !Number.isInteger(maxFrameBytes) ||
    maxFrameBytes < 0 ||
    maxFrameBytes > VARINT_MAX_VALUE - FRAME_HEADER_BYTES
  ) {
    throw new NetError('NET_INVALID_INPUT', `maxFrameBytes out of range: ${maxFrameBytes}`)
  }
  return maxFrameBytes
}

/**
 * Encodes one frame into a single buffer (varint + 5 header bytes + payload).
 * @param maxFrameBytes - largest payload accepted (default {@link DEFAULT_MAX_FRAME_BYTES})
 * @throws NET_FRAME_TOO_LARGE when the payload exceeds `maxFrameBytes`
 * @throws NET_INVALID_INPUT when a port is not a u16, the payload is not bytes, or the
 *   ports and flags do not form a valid frame (see the README's frame table)
 */
export function encodeFrame(
  frame: Frame,
  maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES,
): Uint8Array<ArrayBuffer> {
  const { dstPort, srcPort, flags } = frame
  const payload = plainBytes(frame.payload)
  if (payload.length > maxFrameBytes) {
    throw new NetError(
      'NET_FRAME_TOO_LARGE',
      `payload of ${payload.length} bytes exceeds ${maxFrameBytes}`,
    )
  }
  const problem =
    isPort(dstPort) && isPort(srcPort) && Number.isInteger(flags) && flags >= 0 && flags <= 0xff
      ? headerProblem(dstPort, srcPort, flags, payload.length)
      : 'ports must be u16 and flags u8'
  if (problem) throw new NetError('NET_INVALID_INPUT', problem)
  const length = FRAME_HEADER_BYTES + payload.length
  const out = new Uint8Array(varintLength(length) + length)
  let at = varintEncode(length, out, 0)
  out[at++] = dstPort >>> 8
  out[at++] = dstPort & 0xff
  out[at++] = srcPort >>> 8
  out[at++] = srcPort & 0xff
  out[at++] = flags
  out.set(payload, at)
  return out
}

/** Options of {@link FrameDecoder}. */
export interface FrameDecoderOptions {
  /** Largest payload accepted, in bytes (default {@link DEFAULT_MAX_FRAME_BYTES}). */
  maxFrameBytes?: number
}

/**
 * Incremental frame decoder for byte streams whose chunks are split or coalesced
 * arbitrarily. Memory is bounded by what arrived, not by what a peer declares: at most one
 * partial frame is held, in memory that grows with its received bytes (at most
 * `2 × received +` {@link MIN_PARTIAL_FRAME_BYTES}), and a declared length above the limit
 * fails before any of its payload is buffered. So a peer that declares a 1 MiB frame and
 * sends 3 bytes costs 3 bytes, not 1 MiB.
 *
 * A large piece of a frame split across chunks is kept as a view of its chunk until the
 * frame completes (then copied into the frame's own buffer): chunks pushed must not be
 * modified afterwards. Every payload returned owns its memory.
 *
 * After a failure the decoder stays failed: every later {@link push} throws the same error.
 */
export class FrameDecoder {
  private readonly maxFrameBytes: number
  private readonly length: VarintReader
  /** The frame being assembled across chunks, or null between frames. */
  private partial: PartialFrame | null = null
  private failure: NetError | undefined

  /** @throws NET_INVALID_INPUT when `maxFrameBytes` is out of range */
  constructor({ maxFrameBytes = DEFAULT_MAX_FRAME_BYTES }: FrameDecoderOptions = {}) {
    this.maxFrameBytes = checkMaxFrameBytes(maxFrameBytes)
    this.length = new VarintReader(this.maxFrameBytes + FRAME_HEADER_BYTES)
  }

  /**
   * Bytes held for the frame in progress (allocated, or pinned chunk buffers): at most
   * `2 × bytes of it received + MIN_PARTIAL_FRAME_BYTES`; between frames, the bytes of a
   * length prefix in progress.
   */
  get bufferedBytes(): number {
    if (this.failure) return 0
    return this.partial ? this.partial.heldBytes : this.length.bytesRead
  }

  /**
   * Consumes `chunk` (any size, any alignment) and returns the frames it completes. Do not
   * modify `chunk` afterwards: a large piece of a frame in progress is kept as a view.
   * @throws NET_FRAME_TOO_LARGE when a frame declares a payload above `maxFrameBytes`
   * @throws NET_MALFORMED on a bad varint, a frame shorter than its header, or an invalid
   *   combination of ports and flags
   * @throws NET_INVALID_INPUT when `chunk` is not a Uint8Array
   */
  push(chunk: Uint8Array): Frame[] {
    if (this.failure) throw this.failure
    try {
      return this.consume(plainBytes(chunk))
    } catch (err) {
      this.partial = null
      this.failure =
        err instanceof NetError ? err : new NetError('NET_MALFORMED', 'bad frame', { cause: err })
      throw this.failure
    }
  }

  private consume(chunk: Uint8Array): Frame[] {
    const frames: Frame[] = []
    let i = 0
    while (i < chunk.length) {
      const partial = this.partial
      if (partial === null) {
        const length = this.length.push(chunk[i++]!)
        if (length === undefined) continue
        if (length < FRAME_HEADER_BYTES) {
          throw new NetError('NET_MALFORMED', `frame length ${length} is shorter than its header`)
        }
        if (chunk.length - i >= length) {
          frames.push(parseFrame(chunk.subarray(i, i + length), true))
          i += length
        } else {
          this.partial = new PartialFrame(length)
        }
        continue
      }
      const n = Math.min(partial.declared - partial.filled, chunk.length - i)
      partial.add(chunk.subarray(i, i + n))
      i += n
      if (partial.filled === partial.declared) {
        this.partial = null
        frames.push(parseFrame(partial.take(), false))
      }
    }
    return frames
  }
}

/** Reads the header of one complete frame body; copies the payload out when `copy`. */
function parseFrame(body: Uint8Array, copy: boolean): Frame {
  const dstPort = (body[0]! << 8) | body[1]!
  const srcPort = (body[2]! << 8) | body[3]!
  const flags = body[4]!
  const problem = headerProblem(dstPort, srcPort, flags, body.length - FRAME_HEADER_BYTES)
  if (problem) throw new NetError('NET_MALFORMED', problem)
  const payload = copy ? body.slice(FRAME_HEADER_BYTES) : body.subarray(FRAME_HEADER_BYTES)
  return { dstPort, srcPort, flags, payload }
}
