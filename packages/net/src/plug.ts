import { plainBytes } from './bytes.ts'
import { deferred } from './deferred.ts'
import { NetError } from './errors.ts'

/** Default time a request waits for its reply: 30 s. */
export const DEFAULT_REPLY_TIMEOUT_MS = 30_000

/** Default number of replies one plug may wait for at once. */
export const DEFAULT_MAX_PENDING_REPLIES = 1024

/**
 * Default time a byte wire waits, after it ended its transport, for the peer to close its
 * side before destroying the transport: 5 s.
 */
export const DEFAULT_HALF_OPEN_TIMEOUT_MS = 5_000

/**
 * Sends one message. With `replyExpected` the promise resolves with the reply (a
 * {@link Reply}); without, it resolves once the message is delivered (in-process: once
 * the receiving handler has returned or its promise settled; over bytes: once written).
 */
export interface Send {
  (msg: Uint8Array, replyExpected: true): Promise<Reply>
  (msg: Uint8Array, replyExpected?: false): Promise<void>
  (msg: Uint8Array, replyExpected?: boolean): Promise<Reply | undefined>
}

/**
 * Answers one request: `answer(msg)` replies and ends the conversation,
 * `answer(msg, true)` replies and waits for the next step. Usable once.
 */
export interface Answer extends Send {
  /**
   * Fails the request instead of answering it: the requester's promise rejects with
   * `NET_REMOTE_ERROR` (a `NetError` reason is passed on unchanged). No-op once the
   * request is answered, failed or timed out.
   */
  reject(reason: unknown): void
}

/**
 * A received message: its bytes, the function to answer it (`undefined` when the sender
 * expects no reply), and the plug it arrived at.
 */
export type Reply = [msg: Uint8Array, answer: Answer | undefined, plug: Plug]

/**
 * Receives messages arriving at a plug. Throwing (or returning a rejected promise)
 * fails the sender's request with `NET_REMOTE_ERROR`; the wire stays open.
 */
export type Handler = (msg: Uint8Array, answer: Answer | undefined, plug: Plug) => unknown

/**
 * One end of a wire. A plug is also a function: `plug(target)` is `plug.open(target)`,
 * so `alice.spawnWire()(bob.spawnWire())` splices two wires.
 */
export interface Plug {
  (handler: Handler): Promise<void>
  (other: Plug): Promise<void>
  /** Optional label shared by both ends of the wire (e.g. a peer id). */
  id: string | undefined
  /**
   * Sends `msg` to the other end.
   * @throws NET_DISCONNECTED (rejects) when the wire is closed, or closes while waiting
   * @throws NET_NO_HANDLER (rejects) when the other end has no handler yet
   * @throws NET_TIMEOUT (rejects) when no reply comes within `replyTimeoutMs`
   * @throws NET_TOO_MANY_PENDING (rejects) when this plug already waits for `maxPendingReplies`
   * @throws NET_REMOTE_ERROR (rejects) when the receiving handler fails
   * @throws NET_INVALID_INPUT (rejects) when `msg` is not a Uint8Array
   */
  postMessage: Send
  /**
   * The handler of messages arriving at this plug; set once.
   * @throws NET_ALREADY_OPEN when a handler is already set
   * @throws NET_DISCONNECTED when the wire is closed
   */
  onmessage: Handler | undefined
  /**
   * Sets the handler (`open(handler)`) or splices this wire with another one
   * (`open(otherPlug)`: each plug forwards what it receives to the other, conversations
   * included, and closing either wire closes both). Resolves like {@link opened}
   * (for a splice: once both wires are open).
   * @throws NET_ALREADY_OPEN / NET_DISCONNECTED as for {@link onmessage}
   */
  open(handler: Handler): Promise<void>
  /** Splices this wire with `other`; see the `open(handler)` overload. */
  open(other: Plug): Promise<void>
  /** Resolves once the other end has a handler; rejects `NET_DISCONNECTED` if closed first. */
  readonly opened: Promise<void>
  /** Resolves when the wire closes, with the reason (`undefined` for a clean close). */
  readonly closed: Promise<Error | undefined>
  /**
   * Closes the whole wire (both ends). Every pending request of either end rejects with
   * `NET_DISCONNECTED` (`cause`: the reason). Idempotent.
   *
   * A byte wire behind the wire (`streamWire`, `wsWire`, `frameWire`) sends a close frame,
   * ends its transport gracefully and destroys it if the peer has not closed its side
   * within `halfOpenTimeoutMs` (default {@link DEFAULT_HALF_OPEN_TIMEOUT_MS}).
   * @throws NET_INVALID_INPUT when `reason` is not an Error
   */
  close(reason?: Error): void
  /**
   * Hard close, for a peer that misbehaved: closes the wire as {@link close} does, and the
   * byte wire behind it writes its close frame (best effort: it may not arrive) and
   * destroys its transport at once, without waiting for the peer to close its side.
   * Spliced wires are destroyed too. Idempotent; a no-op on a wire already closed.
   * @throws NET_INVALID_INPUT when `reason` is not an Error
   */
  destroy(reason?: Error): void
  /** True while the wire is open and the other end has a handler. */
  readonly isActive: boolean
  /** True once the wire is closed. */
  readonly isClosed: boolean
}

/** Options of {@link picoWire}. */
export interface WireOptions {
  /** Label for both plugs (`plug.id`). */
  id?: string
  /** Time a request waits for its reply, in ms (default {@link DEFAULT_REPLY_TIMEOUT_MS}). */
  replyTimeoutMs?: number
  /** Replies one plug may wait for at once (default {@link DEFAULT_MAX_PENDING_REPLIES}). */
  maxPendingReplies?: number
}

/** The end behind each plug made by {@link picoWire}. */
const ends = new WeakMap<object, End>()

/** True when `value` is a plug made by {@link picoWire}. */
export function isPlug(value: unknown): value is Plug {
  return typeof value === 'function' && ends.has(value)
}

const noop = () => {}

/** The error a sender sees when its receiver fails with `err`. */
export function senderError(err: unknown): NetError {
  if (err instanceof NetError) return err
  const message = err instanceof Error ? err.message : String(err)
  return new NetError('NET_REMOTE_ERROR', message, { cause: err })
}

function disconnected(reason: Error | undefined): NetError {
  return new NetError(
    'NET_DISCONNECTED',
    reason ? `wire closed: ${reason.message}` : 'wire closed',
    { cause: reason },
  )
}

/** Checks a positive integer option. */
export function positiveInteger(name: string, value: number, max = Number.MAX_SAFE_INTEGER) {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new NetError('NET_INVALID_INPUT', `${name} must be an integer in 1..${max}: ${value}`)
  }
  return value
}

/** Shared state of the two ends. */
class Wire {
  closed = false
  /** Closed by `destroy`: transports behind it tear down at once. */
  destroyed = false
  reason: Error | undefined
  id: string | undefined
  readonly replyTimeoutMs: number
  readonly maxPendingReplies: number
  readonly closedSignal = deferred<Error | undefined>()
  readonly a: End
  readonly b: End

  constructor(options: WireOptions) {
    this.id = options.id
    this.replyTimeoutMs = positiveInteger(
      'replyTimeoutMs',
      options.replyTimeoutMs ?? DEFAULT_REPLY_TIMEOUT_MS,
      2 ** 31 - 1,
    )
    this.maxPendingReplies = positiveInteger(
      'maxPendingReplies',
      options.maxPendingReplies ?? DEFAULT_MAX_PENDING_REPLIES,
    )
    this.a = new End(this)
    this.b = new End(this)
    this.a.other = this.b
    this.b.other = this.a
  }

  close(reason: Error | undefined, destroy = false): void {
    if (this.closed) return
    this.closed = true
    this.destroyed = destroy
    this.reason = reason
    for (const end of [this.a, this.b]) {
      end.openedSignal.reject(disconnected(reason))
      for (const request of end.pending) request.fail(disconnected(reason))
    }
    this.closedSignal.resolve(reason)
  }
}

/** One request waiting for its reply; owned by the end that asked. */
class Request {
  state: 'waiting' | 'answered' | 'failed' = 'waiting'
  failure: NetError | undefined
  private readonly signal = deferred<Reply>()
  private readonly timer: ReturnType<typeof setTimeout>

  constructor(private readonly owner: End) {
    const wire = owner.wire
    if (owner.pending.size >= wire.maxPendingReplies) {
      throw new NetError(
        'NET_TOO_MANY_PENDING',
        `already waiting for ${wire.maxPendingReplies} replies`,
      )
    }
    owner.pending.add(this)
    this.timer = setTimeout(
      () => this.fail(new NetError('NET_TIMEOUT', `no reply within ${wire.replyTimeoutMs} ms`)),
      wire.replyTimeoutMs,
    )
  }

  get promise(): Promise<Reply> {
    return this.signal.promise
  }

  answer(reply: Reply): void {
    this.finish('answered')
    this.signal.resolve(reply)
  }

  fail(err: NetError): void {
    if (this.state !== 'waiting') return
    this.finish('failed')
    this.failure = err
    this.signal.reject(err)
  }

  private finish(state: 'answered' | 'failed'): void {
    this.state = state
    clearTimeout(this.timer)
    this.owner.pending.delete(this)
  }
}

/** One end: its handler, its pending requests, and its plug. */
class End {
  handler: Handler | undefined
  other!: End
  readonly pending = new Set<Request>()
  /** Resolves once the OTHER end has a handler. */
  readonly openedSignal = deferred<void>()
  readonly plug: Plug

  constructor(readonly wire: Wire) {
    this.openedSignal.promise.catch(noop)
    this.plug = makePlug(this)
  }

  setHandler(handler: Handler): void {
    if (typeof handler !== 'function') {
      throw new NetError('NET_INVALID_INPUT', 'a handler must be a function')
    }
    if (this.handler) throw new NetError('NET_ALREADY_OPEN', 'this plug already has a handler')
    if (this.wire.closed) throw disconnected(this.wire.reason)
    this.handler = handler
    this.other.openedSignal.resolve()
  }

  async post(input: Uint8Array, replyExpected = false): Promise<Reply | undefined> {
    const msg = plainBytes(input)
    const wire = this.wire
    if (wire.closed) throw disconnected(wire.reason)
    const to = this.other
    const handler = to.handler
    if (!handler) throw new NetError('NET_NO_HANDLER', 'the other end has no handler yet')
    if (!replyExpected) {
      try {
        await handler(msg, undefined, to.plug)
      } catch (err) {
        throw senderError(err)
      }
      return undefined
    }
    const request = new Request(this)
    try {
      const result = handler(msg, makeAnswer(request, to), to.plug)
      if (isThenable(result)) result.then(noop, (err) => request.fail(senderError(err)))
    } catch (err) {
      request.fail(senderError(err))
    }
    return request.promise
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}

/** The answer function for `request`, used by `answerer` (the end that received it). */
function makeAnswer(request: Request, answerer: End): Answer {
  const asker = answerer.other
  const answer = async (input: Uint8Array, replyExpected = false) => {
    const msg = plainBytes(input)
    const wire = answerer.wire
    if (request.state === 'answered') {
      throw new NetError('NET_ANSWERED', 'this request was already answered')
    }
    if (request.state === 'failed') {
      const code = request.failure?.code
      throw new NetError(
        code === 'NET_TIMEOUT' || code === 'NET_DISCONNECTED' ? code : 'NET_ANSWERED',
        `this request already failed: ${request.failure?.message}`,
        { cause: request.failure },
      )
    }
    if (wire.closed) throw disconnected(wire.reason)
    if (!replyExpected) {
      request.answer([msg, undefined, asker.plug])
      return undefined
    }
    const next = new Request(answerer)
    request.answer([msg, makeAnswer(next, asker), asker.plug])
    return next.promise
  }
  return Object.assign(answer, {
    reject: (reason: unknown) => request.fail(senderError(reason)),
  }) as Answer
}

/**
 * Forwards `msg` with `send` and relays the whole conversation that follows between the
 * two sides (used to splice wires). Errors of one side reach the other.
 */
export async function relay(send: Send, msg: Uint8Array, answer: Answer | undefined) {
  let forward = send
  let back = answer
  let current = msg
  while (back) {
    let reply: Reply
    try {
      reply = await forward(current, true)
    } catch (err) {
      back.reject(err)
      return
    }
    forward = back
    current = reply[0]
    back = reply[1]
  }
  await forward(current, false)
}

function splice(a: End, b: End): Promise<void> {
  if (a.wire === b.wire) {
    throw new NetError('NET_INVALID_INPUT', 'cannot splice a wire with itself')
  }
  for (const end of [a, b]) {
    if (end.handler) throw new NetError('NET_ALREADY_OPEN', 'a spliced plug already has a handler')
    if (end.wire.closed) throw disconnected(end.wire.reason)
  }
  a.setHandler((msg, answer) => relay(b.plug.postMessage, msg, answer))
  b.setHandler((msg, answer) => relay(a.plug.postMessage, msg, answer))
  a.wire.closedSignal.promise.then((reason) => b.wire.close(reason, a.wire.destroyed))
  b.wire.closedSignal.promise.then((reason) => a.wire.close(reason, b.wire.destroyed))
  const both = Promise.all([a.openedSignal.promise, b.openedSignal.promise]).then(noop)
  both.catch(noop)
  return both
}

/** True when the wire of `plug` was closed by `plug.destroy` (on either end). */
export function wasDestroyed(plug: Plug): boolean {
  return ends.get(plug)?.wire.destroyed === true
}

function closeReason(reason: unknown): Error | undefined {
  if (reason !== undefined && !(reason instanceof Error)) {
    throw new NetError('NET_INVALID_INPUT', 'a close reason must be an Error')
  }
  return reason
}

function makePlug(end: End): Plug {
  const open = (target: Handler | Plug): Promise<void> => {
    const other = ends.get(target)
    if (other) return splice(end, other)
    end.setHandler(target as Handler)
    return end.openedSignal.promise
  }
  const plug = ((target: Handler | Plug) => open(target)) as Plug
  Object.defineProperties(plug, {
    id: {
      get: () => end.wire.id,
      set: (id: string | undefined) => {
        end.wire.id = id
      },
    },
    postMessage: {
      value: (msg: Uint8Array, replyExpected?: boolean) => end.post(msg, replyExpected),
    },
    onmessage: {
      get: () => end.handler,
      set: (handler: Handler) => end.setHandler(handler),
    },
    open: { value: open },
    opened: { get: () => end.openedSignal.promise },
    closed: { get: () => end.wire.closedSignal.promise },
    close: { value: (reason?: Error) => end.wire.close(closeReason(reason)) },
    destroy: { value: (reason?: Error) => end.wire.close(closeReason(reason), true) },
    isActive: { get: () => !end.wire.closed && end.other.handler !== undefined },
    isClosed: { get: () => end.wire.closed },
  })
  ends.set(plug, end)
  return plug
}

/**
 * Creates an in-memory wire and returns its two plugs. What one plug sends, the other's
 * handler receives; replies travel back as promise resolutions, so a conversation is a
 * promise chain and no state exists beyond pending replies.
 *
 * ```ts
 * const [a, b] = picoWire()
 * b.open((msg, answer) => answer?.(msg.reverse()))
 * const [reply] = await a.postMessage(new Uint8Array([1, 2]), true) // [2, 1]
 * ```
 * @throws NET_INVALID_INPUT when an option is out of range
 */
export function picoWire(options: WireOptions = {}): [Plug, Plug] {
  const wire = new Wire(options)
  return [wire.a.plug, wire.b.plug]
}
