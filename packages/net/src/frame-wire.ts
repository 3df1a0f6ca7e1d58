import { NetError } from './errors.ts'
import {
  checkMaxFrameBytes,
  DEFAULT_MAX_FRAME_BYTES,
  encodeFrame,
  FLAG_CLOSE,
  FLAG_ERROR,
  FLAG_REPLY_EXPECTED,
  type Frame,
  FrameDecoder,
  MAX_PORT,
} from './frame.ts'
import {
  type Answer,
  DEFAULT_HALF_OPEN_TIMEOUT_MS,
  DEFAULT_MAX_PENDING_REPLIES,
  DEFAULT_REPLY_TIMEOUT_MS,
  type Plug,
  positiveInteger,
  type Send,
  wasDestroyed,
} from './plug.ts'

/** Longest error text sent in an error reply or close frame, in bytes. */
export const MAX_ERROR_TEXT_BYTES = 1024

/** Options of a byte-transport wire ({@link frameWire}, `streamWire`, `wsWire`). */
export interface FrameWireOptions {
  /** Largest payload of a frame, in bytes, both ways (default 1 MiB). */
  maxFrameBytes?: number
  /**
   * Replies this side may wait for at once over the connection (default 1024, at most
   * 65535: one u16 port each).
   */
  maxPendingReplies?: number
  /** Time a reply port stays open, in ms (default 30 s); later replies are dropped. */
  replyTimeoutMs?: number
  /**
   * After this side closed the wire and ended its transport, time the peer has to close its
   * side, in ms (default {@link DEFAULT_HALF_OPEN_TIMEOUT_MS}, 5 s); then the transport is
   * destroyed. Bounds how long a peer that never closes keeps a socket (and our reads) alive.
   */
  halfOpenTimeoutMs?: number
}

/**
 * What a byte transport must offer to {@link frameWire}. Once the wire closed, frameWire
 * writes a close frame and then calls exactly one of `close` and `destroy`, once; with a
 * `destroy`, a `close` may be followed by `destroy` when the half-open timeout expires.
 */
export interface FrameLink {
  /** Sends bytes to the peer (whole frames; the peer reassembles any chunking). */
  write(bytes: Uint8Array): void
  /**
   * Ends the transport gracefully, so that queued bytes still go out (TCP: a FIN;
   * WebSocket: the closing handshake). `reason` is the wire's close reason.
   *
   * Without a `destroy`, this is also called for a hard close (`reason` is then a
   * `NET_MALFORMED` / `NET_FRAME_TOO_LARGE` error, or the wire was destroyed), and no
   * half-open timeout runs: the transport must then bound its own closing.
   */
  close(reason: Error | undefined): void
  /**
   * Tears the transport down at once (TCP: `socket.destroy()`). Called instead of `close`
   * when the peer broke the protocol (`NET_MALFORMED`, `NET_FRAME_TOO_LARGE`) or the wire
   * was closed with `plug.destroy(reason)`, and after `close` when the peer did not close
   * its side within `halfOpenTimeoutMs` (`reason`: `NET_TIMEOUT`). Optional.
   */
  destroy?(reason: Error | undefined): void
}

/** What a transport feeds into {@link frameWire}. */
export interface FrameReceiver {
  /**
   * Bytes received from the peer, chunked in any way (ignored once the wire closed). The
   * chunk must not be modified afterwards (the decoder may keep a view of it until its
   * frame completes); every chunk Node sockets, `ws` and browsers deliver is fresh memory.
   */
  receive(chunk: Uint8Array): void
  /**
   * The transport is gone: the peer closed its side, or it failed (`reason`). Closes the
   * wire with `reason`, or `NET_DISCONNECTED` when the peer vanished without a close
   * frame. After the wire closed, it stops the half-open timeout. Idempotent.
   *
   * With a `NET_MALFORMED` / `NET_FRAME_TOO_LARGE` reason it means instead "the transport
   * must stop" (the peer sent something the transport cannot carry): the wire closes
   * with it and the transport is torn down as for a malformed frame.
   */
  end(reason?: Error): void
}

interface Route {
  answer: Answer
  timer: ReturnType<typeof setTimeout>
}

const utf8Encoder = new TextEncoder()
const utf8Decoder = new TextDecoder()
const EMPTY = new Uint8Array(0)
const noop = () => {}

/** UTF-8 text of `err` for the peer: its message, prefixed by its code unless it is a remote error. */
function errorText(err: unknown, maxBytes: number): Uint8Array {
  let text = err instanceof Error ? err.message : String(err)
  if (err instanceof NetError && err.code !== 'NET_REMOTE_ERROR') text = `${err.code}: ${text}`
  return utf8Encoder.encode(text).subarray(0, Math.min(maxBytes, MAX_ERROR_TEXT_BYTES))
}

/** True for errors that mean the peer broke the framing protocol. */
export function isProtocolError(reason: Error | undefined): boolean {
  return (
    reason instanceof NetError &&
    (reason.code === 'NET_MALFORMED' || reason.code === 'NET_FRAME_TOO_LARGE')
  )
}

/**
 * Carries a plug's conversations over any byte transport as frames
 * (`varint length | dstPort u16 | srcPort u16 | flags u8 | payload`).
 *
 * `plug` is the transport's end of a wire (e.g. from `hub.createWire()`); frameWire
 * opens it. Each request gets a free u16 reply port; replies, follow-ups and error
 * replies are routed by port, so no other state is kept. Malformed or oversize input
 * closes the wire with `NET_MALFORMED` / `NET_FRAME_TOO_LARGE`; closing the wire sends
 * a close frame (with the reason, if any) and then calls `link.close`, which ends the
 * transport; if the peer has not closed its side (`receiver.end()`) within
 * `halfOpenTimeoutMs`, `link.destroy` tears it down. Malformed input and
 * `plug.destroy(reason)` call `link.destroy` at once instead.
 *
 * @returns where the transport feeds received bytes and reports its end
 * @throws NET_ALREADY_OPEN when `plug` already has a handler
 * @throws NET_INVALID_INPUT when an option is out of range
 */
export function frameWire(
  plug: Plug,
  link: FrameLink,
  options: FrameWireOptions = {},
): FrameReceiver {
  const maxFrameBytes = checkMaxFrameBytes(options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES)
  const maxPendingReplies = positiveInteger(
    'maxPendingReplies',
    options.maxPendingReplies ?? DEFAULT_MAX_PENDING_REPLIES,
    MAX_PORT,
  )
  const replyTimeoutMs = positiveInteger(
    'replyTimeoutMs',
    options.replyTimeoutMs ?? DEFAULT_REPLY_TIMEOUT_MS,
    2 ** 31 - 1,
  )
  const halfOpenTimeoutMs = positiveInteger(
    'halfOpenTimeoutMs',
    options.halfOpenTimeoutMs ?? DEFAULT_HALF_OPEN_TIMEOUT_MS,
    2 ** 31 - 1,
  )
  const decoder = new FrameDecoder({ maxFrameBytes })
  const routes = new Map<number, Route>()
  let nextPort = 1
  /** Set when the transport is gone or the peer sent a close frame: write nothing more. */
  let silent = false
  /** Set once the transport reported its end (the peer closed its side, or it failed). */
  let transportGone = false
  let halfOpenTimer: ReturnType<typeof setTimeout> | undefined

  plug.open((msg, answer) => send(0, msg, answer))
  plug.closed.then((reason) => {
    for (const route of routes.values()) clearTimeout(route.timer)
    routes.clear()
    if (!silent) {
      silent = true
      const flags = FLAG_CLOSE | (reason ? FLAG_ERROR : 0)
      write({
        dstPort: 0,
        srcPort: 0,
        flags,
        payload: reason ? errorText(reason, maxFrameBytes) : EMPTY,
      })
    }
    const destroy = link.destroy?.bind(link)
    if (transportGone || !destroy) {
      link.close(reason)
    } else if (isProtocolError(reason) || wasDestroyed(plug)) {
      transportGone = true
      destroy(reason)
    } else {
      link.close(reason)
      halfOpenTimer = setTimeout(() => {
        if (transportGone) return
        transportGone = true
        destroy(
          new NetError('NET_TIMEOUT', `the peer did not close within ${halfOpenTimeoutMs} ms`),
        )
      }, halfOpenTimeoutMs)
    }
  })

  function write(frame: Frame): void {
    link.write(encodeFrame(frame, maxFrameBytes))
  }

  /** Opens a reply port for `answer`. */
  function openRoute(answer: Answer): number {
    if (routes.size >= maxPendingReplies) {
      throw new NetError(
        'NET_TOO_MANY_PENDING',
        `already waiting for ${maxPendingReplies} replies on this connection`,
      )
    }
    while (routes.has(nextPort)) nextPort = nextPort === MAX_PORT ? 1 : nextPort + 1
    const port = nextPort
    nextPort = nextPort === MAX_PORT ? 1 : nextPort + 1
    const timer = setTimeout(() => {
      routes.delete(port)
      answer.reject(new NetError('NET_TIMEOUT', `no reply within ${replyTimeoutMs} ms`))
    }, replyTimeoutMs)
    routes.set(port, { answer, timer })
    return port
  }

  /**
   * Sends `msg` to the peer's `dstPort`, opening a reply port when `answer` is given.
   * @throws NET_DISCONNECTED, NET_TOO_MANY_PENDING, NET_FRAME_TOO_LARGE
   */
  function send(dstPort: number, msg: Uint8Array, answer: Answer | undefined): void {
    if (silent || plug.isClosed) throw new NetError('NET_DISCONNECTED', 'connection closed')
    const srcPort = answer ? openRoute(answer) : 0
    try {
      write({ dstPort, srcPort, flags: answer ? FLAG_REPLY_EXPECTED : 0, payload: msg })
    } catch (err) {
      const route = routes.get(srcPort)
      if (route) clearTimeout(route.timer)
      routes.delete(srcPort)
      throw err
    }
  }

  function sendError(dstPort: number, err: unknown): void {
    if (silent || plug.isClosed) return
    write({ dstPort, srcPort: 0, flags: FLAG_ERROR, payload: errorText(err, maxFrameBytes) })
  }

  function onFrame({ dstPort, srcPort, flags, payload }: Frame): void {
    if (flags & FLAG_CLOSE) {
      silent = true
      const text = utf8Decoder.decode(payload)
      plug.close(flags & FLAG_ERROR ? new NetError('NET_REMOTE_ERROR', text) : undefined)
      return
    }
    let target: Send = plug.postMessage
    if (dstPort !== 0) {
      const route = routes.get(dstPort)
      if (!route) return // a reply that came after its port timed out
      routes.delete(dstPort)
      clearTimeout(route.timer)
      if (flags & FLAG_ERROR) {
        route.answer.reject(new NetError('NET_REMOTE_ERROR', utf8Decoder.decode(payload)))
        return
      }
      target = route.answer
    }
    if (!(flags & FLAG_REPLY_EXPECTED)) {
      // No reply port: a local failure has nobody to go to.
      target(payload, false).catch(noop)
      return
    }
    target(payload, true).then(
      ([reply, next]) => {
        try {
          send(srcPort, reply, next)
        } catch (err) {
          next?.reject(err)
          sendError(srcPort, err)
        }
      },
      (err) => sendError(srcPort, err),
    )
  }

  return {
    receive(chunk) {
      if (silent || plug.isClosed) return
      let frames: Frame[]
      try {
        frames = decoder.push(chunk)
      } catch (err) {
        plug.close(err as NetError)
        return
      }
      for (const frame of frames) {
        if (silent || plug.isClosed) return
        onFrame(frame)
      }
    },
    end(reason) {
      if (!isProtocolError(reason)) {
        transportGone = true
        clearTimeout(halfOpenTimer)
      }
      if (plug.isClosed) return
      silent = true
      plug.close(
        reason ?? new NetError('NET_DISCONNECTED', 'the connection ended without a close frame'),
      )
    },
  }
}
