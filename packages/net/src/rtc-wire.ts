import { NetError } from './errors.ts'
import { type FrameWireOptions, frameWire, isProtocolError } from './frame-wire.ts'
import { type Plug, positiveInteger } from './plug.ts'
import type { RtcDataChannelLike } from './rtc-types.ts'

/**
 * Default largest data-channel message the wire sends: 16 KiB, the size every WebRTC
 * stack delivers whole (RFC 8831 section 6.6 advises against relying on more).
 */
export const DEFAULT_RTC_CHUNK_BYTES = 16 * 1024

/**
 * Default `bufferedAmount` above which the wire stops handing bytes to the channel: 1 MiB
 * (Chromium closes a data channel whose buffer passes 16 MiB).
 */
export const DEFAULT_RTC_HIGH_WATER_BYTES = 1024 * 1024

/**
 * Default most bytes the wire queues itself while the channel is full or still
 * connecting: 16 MiB. Past it the wire closes with `NET_TOO_MANY_PENDING` (the peer is not
 * reading).
 */
export const DEFAULT_RTC_MAX_QUEUED_BYTES = 16 * 1024 * 1024

/**
 * Default time a wire that closed waits for the peer to close the data channel before it
 * closes it itself: 2 s. (Closing at once may drop the last messages, the close frame
 * among them, on some WebRTC stacks.)
 */
export const DEFAULT_RTC_CLOSE_LINGER_MS = 2000

/** Options of {@link rtcWire}. */
export interface RtcWireOptions extends FrameWireOptions {
  /** Largest data-channel message, bytes (default {@link DEFAULT_RTC_CHUNK_BYTES}). */
  maxChunkBytes?: number
  /**
   * Channel `bufferedAmount` above which sending pauses until `bufferedamountlow`
   * (default {@link DEFAULT_RTC_HIGH_WATER_BYTES}; it resumes at a quarter of it).
   */
  highWaterBytes?: number
  /** Most bytes queued in the wire itself (default {@link DEFAULT_RTC_MAX_QUEUED_BYTES}). */
  maxQueuedBytes?: number
  /**
   * After a graceful close, how long to wait for the peer to close the channel, ms
   * (default {@link DEFAULT_RTC_CLOSE_LINGER_MS}).
   */
  closeLingerMs?: number
}

/** Bytes of one data-channel message, as the DOM or a polyfill delivered it. */
function messageBytes(data: unknown): Uint8Array | undefined {
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  return undefined
}

/**
 * Connects `plug` to an `RTCDataChannel` (reliable and ordered): net frames as a byte
 * stream, cut into messages of at most `maxChunkBytes` (small frames of one turn share a
 * message), reassembled by the frame decoder on the other side. Backpressure: while the
 * channel's `bufferedAmount` is above `highWaterBytes`, bytes wait in the wire until
 * `bufferedamountlow`; frames sent while the channel is connecting wait until it opens.
 *
 * A text message closes the wire with `NET_MALFORMED`; more than `maxQueuedBytes` waiting
 * closes it with `NET_TOO_MANY_PENDING`. The wire closes when the channel closes or fails
 * (`NET_DISCONNECTED` unless the peer sent a close frame first); closing the wire sends a
 * close frame, lets the queued bytes drain and leaves the peer `closeLingerMs` to close the
 * channel before closing it (at once after a protocol violation by the peer). A wire that
 * receives a close frame closes the channel at once. Closing the peer connection is its owner's job
 * ({@link RtcPeer} does it).
 *
 * ```ts
 * rtcWire(kernel.spawnWire(), peer.channel)
 * ```
 * @throws NET_ALREADY_OPEN when `plug` already has a handler
 * @throws NET_INVALID_INPUT when an option is out of range
 */
export function rtcWire(
  plug: Plug,
  channel: RtcDataChannelLike,
  options: RtcWireOptions = {},
): void {
  const maxChunkBytes = positiveInteger(
    'maxChunkBytes',
    options.maxChunkBytes ?? DEFAULT_RTC_CHUNK_BYTES,
  )
  const highWaterBytes = positiveInteger(
    'highWaterBytes',
    options.highWaterBytes ?? DEFAULT_RTC_HIGH_WATER_BYTES,
  )
  const maxQueuedBytes = positiveInteger(
    'maxQueuedBytes',
    options.maxQueuedBytes ?? DEFAULT_RTC_MAX_QUEUED_BYTES,
  )
  const closeLingerMs = positiveInteger(
    'closeLingerMs',
    options.closeLingerMs ?? DEFAULT_RTC_CLOSE_LINGER_MS,
    2 ** 31 - 1,
  )
  channel.binaryType = 'arraybuffer'
  channel.bufferedAmountLowThreshold = highWaterBytes >> 2
  /** Bytes not yet handed to the channel, oldest first; `head` of `queue[0]` already went. */
  const queue: Uint8Array[] = []
  let head = 0
  let queuedBytes = 0
  let scheduled = false
  let detached = false
  let linger: ReturnType<typeof setTimeout> | undefined

  const closeChannel = () => {
    if (channel.readyState === 'open' || channel.readyState === 'connecting') channel.close()
  }

  /** Hands queued bytes to the channel, in messages of up to `maxChunkBytes`, while it has room. */
  const flush = () => {
    scheduled = false
    if (channel.readyState !== 'open') return
    while (queuedBytes > 0 && channel.bufferedAmount <= highWaterBytes) {
      const size = Math.min(maxChunkBytes, queuedBytes)
      const message = new Uint8Array(size)
      for (let at = 0; at < size; ) {
        const part = queue[0]!
        const take = Math.min(part.length - head, size - at)
        message.set(part.subarray(head, head + take), at)
        at += take
        head += take
        if (head === part.length) {
          queue.shift()
          head = 0
        }
      }
      queuedBytes -= size
      try {
        channel.send(message)
      } catch (err) {
        receiver.end(new NetError('NET_DISCONNECTED', 'data channel send failed', { cause: err }))
        return
      }
    }
  }
  const schedule = () => {
    if (scheduled) return
    scheduled = true
    queueMicrotask(flush)
  }

  const receiver = frameWire(
    plug,
    {
      write: (bytes) => {
        if (detached) return
        queue.push(bytes)
        queuedBytes += bytes.length
        if (queuedBytes > maxQueuedBytes) {
          receiver.end(
            new NetError(
              'NET_TOO_MANY_PENDING',
              `more than ${maxQueuedBytes} bytes wait for the data channel`,
            ),
          )
          return
        }
        schedule()
      },
      close: (reason) => {
        // Nothing queued: no close frame to send, the peer's came in (frameWire writes one
        // right before it closes on its own), so the channel can go at once. A peer that
        // broke the protocol or stopped reading gets no grace either.
        const hard =
          isProtocolError(reason) ||
          (reason instanceof NetError && reason.code === 'NET_TOO_MANY_PENDING')
        if (hard || channel.readyState !== 'open' || queuedBytes === 0) {
          detach()
          closeChannel()
          return
        }
        // The close frame goes out; the peer closes the channel when it reads it, or the
        // linger ends (queued bytes included).
        linger = setTimeout(closeChannel, closeLingerMs)
        flush()
      },
    },
    options,
  )

  const onMessage = (event: { data: unknown }) => {
    const bytes = messageBytes(event.data)
    if (bytes) receiver.receive(bytes)
    else receiver.end(new NetError('NET_MALFORMED', 'a data-channel message that is not binary'))
  }
  const onClose = () => {
    detach()
    receiver.end(new NetError('NET_DISCONNECTED', 'data channel closed'))
  }
  const onError = (event: { error?: unknown }) => {
    detach()
    receiver.end(new NetError('NET_DISCONNECTED', 'data channel failed', { cause: event?.error }))
  }
  if (channel.readyState === 'closing' || channel.readyState === 'closed') {
    receiver.end(new NetError('NET_DISCONNECTED', `data channel already ${channel.readyState}`))
    return
  }
  channel.addEventListener('message', onMessage)
  channel.addEventListener('open', flush)
  channel.addEventListener('bufferedamountlow', flush)
  channel.addEventListener('close', onClose)
  channel.addEventListener('error', onError)

  function detach() {
    if (detached) return
    detached = true
    clearTimeout(linger)
    queue.length = 0
    queuedBytes = 0
    channel.removeEventListener('message', onMessage)
    channel.removeEventListener('open', flush)
    channel.removeEventListener('bufferedamountlow', flush)
    channel.removeEventListener('close', onClose)
    channel.removeEventListener('error', onError)
  }
}
