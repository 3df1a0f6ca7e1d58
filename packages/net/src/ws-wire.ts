import { concatBytes } from './bytes.ts'
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
  /**
   * The server's URL on a client socket (browser, `ws` client); `undefined` on a socket a
   * `ws` server accepted. Tells `wsWire` which side of the connection it is on.
   */
  readonly url?: string
  /** Sends one frame as one binary message. */
  send(data: Uint8Array): void
  /** Closes the socket: 1000 for a clean close, 1002 for a protocol error, 1009 for a frame too large. */
  close(code?: number, reason?: string): void
  /**
   * `ws` only: destroys the connection at once (`wsWire` uses it for a hard close and
   * when the peer does not finish the closing handshake within `halfOpenTimeoutMs`).
   * Browsers have none; they bound the closing handshake themselves.
   */
  terminate?(): void
  /** Listens to `'open'`, `'message'`, `'close'` and `'error'`. */
  // biome-ignore lint/suspicious/noExplicitAny: event shapes differ between ws and the DOM
  addEventListener(type: string, listener: (event: any) => void): void
  /** Removes a listener added with `addEventListener` (when the wire closes). */
  // biome-ignore lint/suspicious/noExplicitAny: as above
  removeEventListener(type: string, listener: (event: any) => void): void
}

const CONNECTING = 0
const OPEN = 1
const STATE_NAMES = ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED']
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
    return concatBytes(
      data.map((part) => new Uint8Array(part.buffer, part.byteOffset, part.byteLength)),
    )
  }
  return undefined
}

/**
 * Why `socket` cannot carry a wire, or `undefined` when it can.
 *
 * Neither the browser's WebSocket nor `ws` keeps a message that arrived before a
 * `'message'` listener: it is dispatched to nobody. A client socket may get the server's
 * first message together with the upgrade response, so once it is OPEN that message may
 * already be gone; it must be attached while CONNECTING. A socket a `ws` server accepted
 * is OPEN from the start and its client speaks only after it saw the upgrade response, so
 * it is used at once (attach it in the `'connection'` / `handleUpgrade` callback).
 */
function unusable(socket: WebSocketLike): NetError | undefined {
  const state = socket.readyState
  if (state === CONNECTING) return undefined
  if (state === OPEN) {
    if (socket.url === undefined) return undefined
    return new NetError(
      'NET_LATE_ATTACH',
      'the client WebSocket is already open: messages it received before wsWire was attached are lost; attach it while CONNECTING',
    )
  }
  return new NetError(
    'NET_DISCONNECTED',
    `the WebSocket is ${STATE_NAMES[state] ?? `in state ${state}`}`,
  )
}

/**
 * Connects `plug` to a WebSocket (browser or `ws`): each frame goes out as one binary
 * message; incoming binary messages (ArrayBuffer, Buffer, fragments or Blob, kept in
 * order) are fed to the frame decoder. Sets `binaryType = 'arraybuffer'`. Frames sent
 * while the socket is still connecting are queued until it opens.
 *
 * When to attach: a client socket (browser, `ws` client) right after `new WebSocket(url)`,
 * while it is CONNECTING; a socket a `ws` server accepted, in the `'connection'` callback
 * (it is OPEN then, and used at once). Neither WebSocket API keeps messages that arrived
 * before a listener, so a client socket that is already OPEN is refused.
 *
 * A text message closes the wire with `NET_MALFORMED`. The wire closes when the socket
 * closes or errors (`NET_DISCONNECTED` unless the peer sent a close frame first).
 * Closing the wire (`plug.close`) sends a close frame and closes the socket (code 1000);
 * if the closing handshake has not finished within `halfOpenTimeoutMs` (default 5 s),
 * `terminate()` destroys it (`ws`; a browser bounds the handshake itself).
 * `plug.destroy(reason)` and a protocol violation by the peer terminate at once (without
 * `terminate`: close with code 1000, or 1002 / 1009 when the peer broke the protocol).
 *
 * ```ts
 * wsWire(kernel.spawnWire(), new WebSocket('wss://relay.example/'))
 * wss.on('connection', (socket) => wsWire(hub.createWire(), socket))
 * ```
 * @throws NET_LATE_ATTACH when `socket` is a client socket that is already OPEN (`plug`
 *   is closed with the same error)
 * @throws NET_DISCONNECTED when `socket` is CLOSING or CLOSED (`plug` is closed with it)
 * @throws NET_ALREADY_OPEN when `plug` already has a handler
 * @throws NET_INVALID_INPUT when an option is out of range
 */
export function wsWire(plug: Plug, socket: WebSocketLike, options?: FrameWireOptions): void {
  const refusal = unusable(socket)
  if (refusal) {
    if (!plug.onmessage) plug.close(refusal)
    throw refusal
  }
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
      close: (reason) => closeSocket(reason),
      destroy: (reason) => {
        detach()
        if (socket.terminate) socket.terminate()
        else closeSocket(reason)
      },
    },
    options,
  )

  /** Starts the closing handshake, with a code that tells why. */
  function closeSocket(reason: Error | undefined): void {
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
  }

  const receive = (data: MessageData) => {
    if (typeof data === 'string') {
      plug.close(new NetError('NET_MALFORMED', 'text WebSocket message'))
      return
    }
    const bytes = isBlob(data) ? undefined : syncBytes(data)
    if (bytes) receiver.receive(bytes)
    else plug.close(new NetError('NET_MALFORMED', 'unsupported WebSocket message data'))
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
        plug.close(new NetError('NET_DISCONNECTED', 'unreadable message', { cause: err })),
      )
      .finally(() => {
        if (backlog === current) backlog = undefined
      })
    backlog = current
  }
  const onOpen = () => {
    for (const bytes of queued.splice(0)) socket.send(bytes)
  }
  const onClose = (event: { code?: number }) => {
    detach()
    receiver.end(new NetError('NET_DISCONNECTED', `WebSocket closed (code ${event?.code})`))
  }
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
