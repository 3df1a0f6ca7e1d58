/**
 * An in-process byte link between two kernels that counts what the sync protocol puts on
 * the wire: each kernel's end of the wire goes through `frameWire` from `@picostack/net`
 * (the engine of `streamWire` and `wsWire`), and the frames one side writes are handed to
 * the other side's receiver on the next turn of the event loop, as a socket would. So the
 * bytes counted are the bytes TCP or a WebSocket would carry: the net frame header
 * (length varint, ports, flags) plus the protocol message. The protocol itself is not
 * touched; the message type of each frame is read from its first CBOR items (every sync
 * message, version 1 and 2, is a CBOR array whose first item is its type number,
 * docs/protocol.md).
 */
import { frameWire, type Plug } from '@picostack/net'

/** What one direction of a link carried. */
export interface Direction {
  /** Frames written (messages, replies, close frames). */
  frames: number
  /** Bytes written, frame headers included. */
  bytes: number
  /** Bytes per message type number (`-1`: error replies and close frames). */
  bytesByType: Map<number, number>
  /** Time of the last frame, `performance.now()` ms (0 before the first). */
  lastFrameAt: number
}

/** A frame seen on a link: who wrote it, its protocol payload and its type number. */
export interface SeenFrame {
  /** 0: from the first plug's kernel to the second's; 1: the other way. */
  from: 0 | 1
  payload: Uint8Array
  type: number
}

/** Two kernels' wires joined by a counting byte link. */
export interface MeteredLink {
  /** [first to second, second to first]. */
  readonly directions: [Direction, Direction]
  /** Bytes both ways. */
  totalBytes(): number
  /** Time of the last frame either way (`performance.now()` ms). */
  lastFrameAt(): number
  /** Closes the link (both wires). */
  close(): void
}

/** Reads the unsigned LEB128 length at the start of a frame: [value, bytes it took]. */
function varint(bytes: Uint8Array): [number, number] {
  let value = 0
  for (let i = 0; i < 4; i++) {
    const byte = bytes[i]!
    value += (byte & 0x7f) * 2 ** (7 * i)
    if (byte < 0x80) return [value, i + 1]
  }
  throw new Error('frame length varint longer than 4 bytes')
}

/** Frame flags (net README, "Frame layout"). */
const FLAG_ERROR = 0x02
const FLAG_CLOSE = 0x04
const HEADER_BYTES = 5

/**
 * The type number of a sync message: the first item of its CBOR array (a small unsigned
 * integer), or -1 when the payload is not such an array.
 */
export function messageType(payload: Uint8Array): number {
  const head = payload[0]
  if (head === undefined) return -1
  let at: number
  if (head >= 0x80 && head <= 0x97) at = 1
  else if (head === 0x98) at = 2
  else if (head === 0x99) at = 3
  else if (head === 0x9f) at = 1
  else return -1
  const type = payload[at]
  if (type === undefined) return -1
  if (type < 0x18) return type
  if (type === 0x18) return payload[at + 1] ?? -1
  return -1
}

function direction(): Direction {
  return { frames: 0, bytes: 0, bytesByType: new Map(), lastFrameAt: 0 }
}

/**
 * Joins `a` and `b` (each a kernel's `spawnWire()`) through a counting byte link.
 * `onframe` sees every protocol frame (not error replies or close frames) as it is written.
 */
export function meteredLink(a: Plug, b: Plug, onframe?: (frame: SeenFrame) => void): MeteredLink {
  const directions: [Direction, Direction] = [direction(), direction()]
  const receivers: ReturnType<typeof frameWire>[] = []
  const link = (from: 0 | 1) => {
    const to = from === 0 ? 1 : 0
    const seen = directions[from]
    return {
      write(bytes: Uint8Array) {
        seen.frames++
        seen.bytes += bytes.length
        seen.lastFrameAt = performance.now()
        const [, lengthBytes] = varint(bytes)
        const flags = bytes[lengthBytes + 4]!
        const payload = bytes.subarray(lengthBytes + HEADER_BYTES)
        const type = flags & (FLAG_ERROR | FLAG_CLOSE) ? -1 : messageType(payload)
        seen.bytesByType.set(type, (seen.bytesByType.get(type) ?? 0) + bytes.length)
        if (type !== -1) onframe?.({ from, payload, type })
        setImmediate(() => receivers[to]!.receive(bytes))
      },
      close() {
        setImmediate(() => receivers[to]!.end())
      },
      destroy() {
        setImmediate(() => {
          receivers[to]!.end()
          receivers[from]!.end()
        })
      },
    }
  }
  receivers.push(frameWire(a, link(0)), frameWire(b, link(1)))
  return {
    directions,
    totalBytes: () => directions[0].bytes + directions[1].bytes,
    lastFrameAt: () => Math.max(directions[0].lastFrameAt, directions[1].lastFrameAt),
    close() {
      a.close()
      b.close()
    },
  }
}

/**
 * Resolves once no frame has crossed any of `links` for `quietMs` (and at least one has
 * crossed after `since`), or after `timeoutMs`.
 * @returns false when it timed out
 */
export async function quiet(
  links: readonly MeteredLink[],
  { quietMs = 300, timeoutMs = 600_000 }: { quietMs?: number; timeoutMs?: number } = {},
): Promise<boolean> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const last = Math.max(0, ...links.map((l) => l.lastFrameAt()))
    const now = performance.now()
    if (last > 0 && now - last >= quietMs) return true
    if (now > deadline) return false
    await new Promise((resolve) => setTimeout(resolve, Math.min(50, quietMs / 4)))
  }
}
