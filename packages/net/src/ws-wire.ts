import { NetError } from './errors.ts'
import { type FrameWireOptions, frameWire } from './frame-wire.ts'
import type { Plug } from './plug.ts'

/**
 * The part of a WebSocket that {@link wsWire} uses: satisfied by the browser's
 * `WebSocket` and by the `ws` package's `WebSocket` (net does not depend on `ws`).
 */
export interface WebSocketLike {
  /** Set to `'arraybuffer'` by `wsWire` (Blobs are read too, in order). */
  binaryType: string
  /** 0 connecting, 1 open, 2 closing, 3 closed (the WebSocket constants). */
  readonly readyState: number
  /** Sends one frame as one binary message. */
  send(data: Uint8Array): void
  /** Closes the socket: 1000 for a clean close, 1002 for a protocol error, 1009 for a frame too large. */
  close(code?: number, reason?: string): void
  /** Listens to `'open'`, `'message'`, `'close'` and `'error'`. */
  // biome-ignore lint/suspicious/noExplicitAny: event shapes differ between ws and the DOM
  addEventListener(type: string, listener: (event: any) => void): void
  /** Removes a listener added with `addEventListener` (when the wire closes). */
  // biome-ignore lint/suspicious/noExplicitAny: as above
  removeEventListener(type: string, listener: (event: any) => void): void
}

const CONNECTING = 0
const OPEN = 1
/** WebSocket close codes used when the wire closes. */
const CLOSE_NORMAL = 1000
const CLOSE_PROTOCOL_ERROR = 1002
const CLOSE_TOO_BIG = 1009

/** Bytes of one binary WebSocket message, whichever way the socket delivered it. */
type MessageData = ArrayBuffer | ArrayBufferView | Blob | ArrayBufferView[] | string

function isBlob(data: unknown): data is Blob {
  return typeof Blob !== 'undefined' && data instanceof Blob
}

function syncBytes(data: Exclude<MessageData, Blob>): Uint8Array | undefined {
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  if (Array.isArray(data)) {
    const parts = data.map((part) => new Uint8Array(part.buffer, part.byteOffset, part.byteLength))
    const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0))
    let at = 0
    for (const part of parts) {
      out.set(part, at)
      at += part.length
    }
    return out
  }
  return undefined
}

/**
 * Connects `plug` to a WebSocket (browser or `ws`): each frame goes out as one binary
 * message; incoming binary messages (ArrayBuffer, Buffer, fragments or Blob, kept in
 * order) are fed to the frame decoder. Sets `binaryType = 'arraybuffer'`. Frames sent
 * while the socket is still connecting are queued until it opens.
 *
 * A text message closes the wire with `NET_MALFORMED`. The wire closes when the socket
 * closes or errors (`NET_DISCONNECTED` unless the peer sent a close frame first);
 * closing the wire sends a close frame and closes the socket (code 1000, or 1002 / 1009
 * when the peer broke the protocol).
 *
 * ```ts
 * wsWire(kernel.spawnWire(), new WebSocket('wss://relay.example/'))
 * ```
 * @throws NET_ALREADY_OPEN when `plug` already has a handler
 * @throws NET_INVALID_INPUT when an option is out of range
 */
export function wsWire(plug: Plug, socket: WebSocketLike, options?: FrameWireOptions): void {
  socket.binaryType = 'arraybuffer'
  const queued: Uint8Array[] = []
  /** Messages behind an unread Blob wait here so order is kept. */
  let backlog: Promise<void> | undefined
  const receiver = frameWire(
    plug,
    {
      write: (bytes) => {
        if (socket.readyState === CONNECTING) queued.push(bytes)
        else if (socket.readyState === OPEN) socket.send(bytes)
      },
      close: (reason) => {
        detach()
        queued.length = 0
        if (socket.readyState !== CONNECTING && socket.readyState !== OPEN) return
        const code = reason instanceof NetError ? reason.code : undefined
        socket.close(
          code === 'NET_MALFORMED'
            ? CLOSE_PROTOCOL_ERROR
            : code === 'NET_FRAME_TOO_LARGE'
              ? CLOSE_TOO_BIG
              : CLOSE_NORMAL,
        )
      },
    },
    options,
  )

  const receive = (data: MessageData) => {
    if (typeof data === 'string') {
      receiver.end(new NetError('NET_MALFORMED', 'text WebSocket message'))
      return
    }
    const bytes = isBlob(data) ? undefined : syncBytes(data)
    if (bytes) receiver.receive(bytes)
    else receiver.end(new NetError('NET_MALFORMED', 'unsupported WebSocket message data'))
  }
  const onMessage = (event: { data: MessageData }) => {
    const data = event.data
    if (!backlog && !isBlob(data)) {
      receive(data)
      return
    }
    const previous = backlog ?? Promise.resolve()
    const current: Promise<void> = previous
      .then(async () => receive(isBlob(data) ? await data.arrayBuffer() : data))
      .catch((err: Error) =>
        receiver.end(new NetError('NET_DISCONNECTED', 'unreadable message', { cause: err })),
      )
      .finally(() => {
        if (backlog === current) backlog = undefined
      })
    backlog = current
  }
  const onOpen = () => {
    for (const bytes of queued.splice(0)) socket.send(bytes)
  }
  const onClose = (event: { code?: number }) =>
    receiver.end(new NetError('NET_DISCONNECTED', `WebSocket closed (code ${event?.code})`))
  const onError = () => receiver.end(new NetError('NET_DISCONNECTED', 'WebSocket error'))
  socket.addEventListener('message', onMessage)
  socket.addEventListener('open', onOpen)
  socket.addEventListener('close', onClose)
  socket.addEventListener('error', onError)

  function detach() {
    socket.removeEventListener('message', onMessage)
    socket.removeEventListener('open', onOpen)
    socket.removeEventListener('close', onClose)
  }
}
