import { plainBytes } from './bytes.ts'
import { NetError } from './errors.ts'
import {
  type Handler,
  type Plug,
  picoWire,
  positiveInteger,
  type Reply,
  type WireOptions,
} from './plug.ts'

/** Default time a hub wire may stay unopened before it is closed: 30 s. */
export const DEFAULT_OPEN_TIMEOUT_MS = 30_000

/** Options of {@link Hub}. */
export interface HubOptions {
  /**
   * Receives every message from every node as `(msg, answer, node)`. Without it the hub is
   * a repeater: one-way messages go to every other node (never back to the sender), and
   * requests are refused with `NET_NO_HANDLER`.
   */
  onmessage?: Handler
  /** Called once per wire the hub made when it closes (opened or not), with the reason. */
  onclose?: (node: Plug, reason: Error | undefined) => void
  /** Time a new wire may stay unopened before it is closed with `NET_TIMEOUT` (default 30 s). */
  openTimeoutMs?: number
  /** Options of every wire the hub creates. */
  wire?: Omit<WireOptions, 'id'>
}

/** Which nodes a broadcast or survey leaves out. */
export interface ExcludeOptions {
  /** A node (hub-side plug, e.g. the third argument of the hub's handler) or several. */
  exclude?: Plug | Iterable<Plug>
}

/** Options of {@link Hub.survey}. */
export interface SurveyOptions extends ExcludeOptions {
  /** Called for each node whose reply failed (timeout, handler error, disconnect). */
  onerror?: (err: unknown, node: Plug) => void
}

function excluded(exclude: ExcludeOptions['exclude']): Set<Plug> {
  if (exclude === undefined) return new Set()
  return typeof exclude === 'function' ? new Set([exclude]) : new Set(exclude)
}

/**
 * Fans out to many wires. `createWire()` hands out the loose end of a new wire for the
 * outside (an app, a transport adapter, another hub) to open; the hub keeps the other end,
 * a "node", listed in {@link nodes} once opened.
 *
 * ```ts
 * const hub = new Hub({ onmessage: (msg, answer, node) => answer?.(msg) })
 * streamWire(hub.createWire(), socket)
 * for await (const [reply, , node] of hub.survey(question)) console.log(node.id, reply)
 * ```
 */
export class Hub {
  private readonly handler: Handler
  private readonly onclose: HubOptions['onclose']
  private readonly openTimeoutMs: number
  private readonly wireOptions: Omit<WireOptions, 'id'>
  /** Every live wire's hub end, opened or not. */
  private readonly wires = new Set<Plug>()
  private readonly opened = new Set<Plug>()
  private closed = false

  /** @throws NET_INVALID_INPUT when an option is out of range */
  constructor(options: HubOptions = {}) {
    this.handler = options.onmessage ?? this.repeat
    this.onclose = options.onclose
    this.openTimeoutMs = positiveInteger(
      'openTimeoutMs',
      options.openTimeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS,
      2 ** 31 - 1,
    )
    this.wireOptions = { ...options.wire }
  }

  /** The opened nodes (hub-side plugs), in the order they opened. */
  get nodes(): Plug[] {
    return [...this.opened]
  }

  /** True once {@link close} was called. */
  get isClosed(): boolean {
    return this.closed
  }

  /**
   * Creates a wire and returns its loose end. The hub end becomes a node when the loose
   * end is opened (then `onOpen(node)` runs; if it throws, the wire closes with that
   * error); if it is not opened within `openTimeoutMs` the wire closes with `NET_TIMEOUT`.
   * @param onOpen - called with the node once the wire is open
   * @param id - label of the wire (`plug.id` on both ends)
   * @throws NET_DISCONNECTED when the hub is closed
   */
  createWire(onOpen?: (node: Plug) => void, id?: string): Plug {
    if (this.closed) throw new NetError('NET_DISCONNECTED', 'the hub is closed')
    const [node, loose] = picoWire({ ...this.wireOptions, id })
    node.onmessage = this.handler
    this.wires.add(node)
    const timer = setTimeout(
      () =>
        node.close(new NetError('NET_TIMEOUT', `wire not opened within ${this.openTimeoutMs} ms`)),
      this.openTimeoutMs,
    )
    node.opened.then(
      () => {
        clearTimeout(timer)
        this.opened.add(node)
        try {
          onOpen?.(node)
        } catch (err) {
          node.close(err instanceof Error ? err : new Error(String(err)))
        }
      },
      () => clearTimeout(timer),
    )
    node.closed.then((reason) => {
      this.wires.delete(node)
      this.opened.delete(node)
      this.onclose?.(node, reason)
    })
    return loose
  }

  /**
   * Sends `msg` one-way to every node except `exclude`.
   * @returns how many nodes it was delivered to (failures are not thrown)
   * @throws NET_INVALID_INPUT (rejects) when `msg` is not a Uint8Array
   */
  async broadcast(msg: Uint8Array, { exclude }: ExcludeOptions = {}): Promise<number> {
    const bytes = plainBytes(msg)
    const skip = excluded(exclude)
    const sends = this.nodes
      .filter((node) => !skip.has(node))
      .map((node) => node.postMessage(bytes))
    const results = await Promise.allSettled(sends)
    return results.filter((result) => result.status === 'fulfilled').length
  }

  /**
   * Sends `msg` as a request to every node except `exclude` and yields each reply as it
   * arrives: `[reply, answer, node]` (answer it to continue that conversation). Failed
   * nodes are skipped (and passed to `onerror`); the iteration ends when every node has
   * replied or failed (each request is bounded by the wire's `replyTimeoutMs`). Breaking
   * out early ignores the remaining replies.
   * @throws NET_INVALID_INPUT when `msg` is not a Uint8Array
   */
  async *survey(msg: Uint8Array, { exclude, onerror }: SurveyOptions = {}): AsyncGenerator<Reply> {
    const bytes = plainBytes(msg)
    const skip = excluded(exclude)
    const targets = this.nodes.filter((node) => !skip.has(node))
    const replies: Reply[] = []
    let waiting = targets.length
    let wake: (() => void) | undefined
    const settled = () => {
      waiting--
      wake?.()
    }
    for (const node of targets) {
      node.postMessage(bytes, true).then(
        (reply) => {
          replies.push(reply)
          settled()
        },
        (err) => {
          settled()
          onerror?.(err, node)
        },
      )
    }
    while (waiting > 0 || replies.length > 0) {
      const reply = replies.shift()
      if (reply) {
        yield reply
        continue
      }
      await new Promise<void>((resolve) => {
        wake = resolve
      })
      wake = undefined
    }
  }

  /**
   * Closes one wire of this hub (a node or a not yet opened wire; or the wire with this id).
   * @returns whether the wire belonged to the hub
   */
  disconnect(node: Plug | string, reason?: Error): boolean {
    const plug = typeof node === 'string' ? [...this.wires].find((wire) => wire.id === node) : node
    if (!plug || !this.wires.has(plug)) return false
    plug.close(reason)
    return true
  }

  /** Closes every wire and refuses new ones. Idempotent. */
  close(reason?: Error): void {
    this.closed = true
    for (const node of [...this.wires]) node.close(reason)
  }

  /** Repeater mode: one-way messages go to every other node. */
  private readonly repeat: Handler = (msg, answer, node) => {
    if (answer) throw new NetError('NET_NO_HANDLER', 'a repeater hub does not answer requests')
    return this.broadcast(msg, { exclude: node })
  }
}
