import { NetError } from './errors.ts'
import { type FrameWireOptions, frameWire, isProtocolError } from './frame-wire.ts'
import type { Plug } from './plug.ts'

/**
 * The part of a Node `stream.Duplex` / streamx `Duplex` that {@link streamWire} uses
 * (`net.Socket`, a hyperswarm connection, a secret-stream...). Chunks may be `Buffer`s.
 */
export interface DuplexLike {
  write(chunk: Uint8Array): unknown
  end(): unknown
  destroy(): unknown
  readonly destroyed?: boolean
  // biome-ignore lint/suspicious/noExplicitAny: listener shapes differ per event and per stream library
  on(event: string, listener: (...args: any[]) => void): unknown
  // biome-ignore lint/suspicious/noExplicitAny: as above
  off(event: string, listener: (...args: any[]) => void): unknown
}

/**
 * Connects `plug` to a byte stream: frames out through `duplex.write`, frames in from
 * its `'data'` chunks, split or coalesced in any way. Imports nothing from Node.
 *
 * The wire closes when the stream ends, closes or errors (`NET_DISCONNECTED` unless the
 * peer sent a close frame first). Closing the wire sends a close frame and ends the
 * stream; a protocol violation by the peer (`NET_MALFORMED`, `NET_FRAME_TOO_LARGE`)
 * destroys it. An `'error'` listener stays attached, so a late error (say
 * `ECONNRESET`) never crashes the process.
 *
 * ```ts
 * net.createServer((socket) => streamWire(hub.createWire(), socket))
 * ```
 * @throws NET_ALREADY_OPEN when `plug` already has a handler
 * @throws NET_INVALID_INPUT when an option is out of range
 */
export function streamWire(plug: Plug, duplex: DuplexLike, options?: FrameWireOptions): void {
  const receiver = frameWire(
    plug,
    {
      write: (bytes) => {
        if (!duplex.destroyed) duplex.write(bytes)
      },
      close: (reason) => {
        detach()
        if (duplex.destroyed) return
        if (isProtocolError(reason)) duplex.destroy()
        else duplex.end()
      },
    },
    options,
  )
  const onData = (chunk: Uint8Array) => receiver.receive(chunk)
  const onEnd = () => receiver.end()
  const onError = (err: Error) =>
    receiver.end(new NetError('NET_DISCONNECTED', `stream error: ${err?.message}`, { cause: err }))
  duplex.on('data', onData)
  duplex.on('end', onEnd)
  duplex.on('close', onEnd)
  duplex.on('error', onError)

  function detach() {
    duplex.off('data', onData)
    duplex.off('end', onEnd)
    duplex.off('close', onEnd)
  }
}
