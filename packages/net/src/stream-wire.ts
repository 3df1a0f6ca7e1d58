import { NetError } from './errors.ts'
import { type FrameWireOptions, frameWire } from './frame-wire.ts'
import type { Plug } from './plug.ts'

/**
 * Runs `fn` once the current turn's callbacks, promise jobs included, are done:
 * `setImmediate` where it exists (Node, Bare), else a macrotask via `setTimeout`.
 */
const scheduleFlush: (fn: () => void) => void =
  typeof globalThis.setImmediate === 'function'
    ? (fn) => globalThis.setImmediate(fn)
    : (fn) => setTimeout(fn, 0)

/**
 * The part of a Node `stream.Duplex` / streamx `Duplex` that {@link streamWire} uses
 * (`net.Socket`, a hyperswarm connection, a secret-stream...). Chunks may be `Buffer`s.
 */
export interface DuplexLike {
  /** Sends bytes (one or more whole frames); the return value is ignored (no backpressure). */
  write(chunk: Uint8Array): unknown
  /** Node streams: buffer writes until `uncork` (one writev syscall for a batch). */
  cork?(): void
  /** Node streams: flushes the writes buffered since `cork`. */
  uncork?(): void
  /** Ends the stream after what was written (sent after a close frame). */
  end(): unknown
  /**
   * Tears the stream down at once: after a protocol violation by the peer, a
   * `plug.destroy(reason)`, or a peer that did not close within `halfOpenTimeoutMs`.
   */
  destroy(): unknown
  /** True once the stream is destroyed (nothing more is written then). */
  readonly destroyed?: boolean
  /** Listens to `'data'` (a chunk of bytes), `'end'`, `'close'` and `'error'`. */
  // biome-ignore lint/suspicious/noExplicitAny: listener shapes differ per event and per stream library
  on(event: string, listener: (...args: any[]) => void): unknown
  /** Removes a listener added with `on` (when the wire closes). */
  // biome-ignore lint/suspicious/noExplicitAny: as above
  off(event: string, listener: (...args: any[]) => void): unknown
}

/**
 * Connects `plug` to a byte stream: frames out through `duplex.write`, frames in from
 * its `'data'` chunks, split or coalesced in any way. Imports nothing from Node.
 *
 * The wire closes when the stream ends, closes or errors (`NET_DISCONNECTED` unless the
 * peer sent a close frame first). Closing the wire (`plug.close`) sends a close frame and
 * ends the stream; if the peer has not ended its side within `halfOpenTimeoutMs`
 * (default 5 s) the stream is destroyed. `plug.destroy(reason)` and a protocol violation
 * by the peer (`NET_MALFORMED`, `NET_FRAME_TOO_LARGE`) destroy it at once. Bytes that
 * arrive after the wire closed are read and dropped. Frames written in one event-loop turn
 * are sent together. An `'error'` listener stays attached, so a late error (say
 * `ECONNRESET`) never crashes the process.
 *
 * ```ts
 * net.createServer((socket) => streamWire(hub.createWire(), socket))
 * ```
 * @throws NET_ALREADY_OPEN when `plug` already has a handler
 * @throws NET_INVALID_INPUT when an option is out of range
 */
export function streamWire(plug: Plug, duplex: DuplexLike, options?: FrameWireOptions): void {
  /** Frames written in one turn of the event loop, sent together (fewer syscalls). */
  let batch: Uint8Array[] = []
  const flush = () => {
    const frames = batch
    batch = []
    if (duplex.destroyed || frames.length === 0) return
    duplex.cork?.()
    for (const frame of frames) duplex.write(frame)
    duplex.uncork?.()
  }
  const receiver = frameWire(
    plug,
    {
      write: (bytes) => {
        batch.push(bytes)
        if (batch.length === 1) scheduleFlush(flush)
      },
      close: () => {
        flush()
        if (!duplex.destroyed) duplex.end()
      },
      destroy: () => {
        flush()
        detach()
        if (!duplex.destroyed) duplex.destroy()
      },
    },
    options,
  )
  const onData = (chunk: Uint8Array) => receiver.receive(chunk)
  const onEnd = () => receiver.end()
  const onClose = () => {
    detach()
    receiver.end()
  }
  const onError = (err: Error) =>
    receiver.end(new NetError('NET_DISCONNECTED', `stream error: ${err?.message}`, { cause: err }))
  duplex.on('data', onData)
  duplex.on('end', onEnd)
  duplex.on('close', onClose)
  duplex.on('error', onError)

  /** The stream is gone: stop listening (the `'error'` listener stays). */
  function detach() {
    duplex.off('data', onData)
    duplex.off('end', onEnd)
    duplex.off('close', onClose)
  }
}
