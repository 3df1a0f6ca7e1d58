import { type Feed, PicoError, toHex } from '@picostack/feed'
import type { Answer, Plug } from '@picostack/net'
import { KernelError } from '../errors.ts'
import type { RandomBytes } from '../random.ts'
import { Backlog } from './backlog.ts'
import { Keepalive } from './keepalive.ts'
import { NONCE_BYTES, PROTOCOL_VERSION } from './limits.ts'
import {
  decodeMessage,
  encodeMessage,
  type Have,
  type Hello,
  type Message,
  type Patch,
  type Want,
} from './messages.ts'
import { Outbox, type OutboxHost } from './outbox.ts'
import { PatchIn } from './patch-in.ts'
import { type Prepared, Preparer } from './prepare.ts'
import { Reconciler } from './reconcile.ts'

/** What a session needs from the kernel that runs it (limits, repo, clock and the rest). */
export interface SessionHost extends OutboxHost {
  /** This kernel's node id (16 B). */
  readonly nodeId: Uint8Array
  /** Source of the connection nonce. */
  readonly randomBytes: RandomBytes
  /**
   * Dispatches a patch received from `source` whose signatures were verified (and gossips
   * what merged). `key`: `chainId` in hex; `height`: the first block's height, for a
   * partial chain it starts.
   * @returns how many blocks merged
   */
  ingest(feed: Feed, chainId: Uint8Array, key: string, height: number, by: Session): Promise<number>
  /**
   * Session `by`'s peer announced chain `chainKey` (hex) at `height`: true when it should
   * ask for it (no other session asked for it at that height within `wantRetryMs`, fewer
   * than `maxWants` announced chains are being asked for, and fewer than a quarter of them
   * for this session's announcements).
   */
  claimWant(chainKey: string, height: number, by: Session): boolean
  /** Called when the remote's hello arrived: an error refuses the session (duplicate, self). */
  admit(session: Session): KernelError | undefined
  /** Answers a query from `session`'s peer. */
  answer(payload: Uint8Array, session: Session): Promise<Uint8Array>
  /**
   * Handles a signalling message from `session`'s peer (src/signal); throwing refuses it
   * like any bad message. Without it, signal messages are refused (`KERNEL_PROTOCOL`).
   */
  signal?(payload: Uint8Array, session: Session): void
  /** Called once when the session ends (admitted or not). */
  leave(session: Session, reason: Error | undefined): void
}

/** What the transport told `spawnWire` about the remote. */
export interface SessionOrigin {
  /** The remote's address as the transport knows it (an IP address...), if any. */
  address?: string
}

/** Counters of one session (both directions, protocol messages only). */
export interface SessionStats {
  /** Protocol messages received (replies included). */
  messagesIn: number
  /** Protocol messages sent (replies included). */
  messagesOut: number
  /** Bytes of the messages received. */
  bytesIn: number
  /** Bytes of the messages sent. */
  bytesOut: number
  /** Blocks sent in patches. */
  blocksSent: number
  /** Blocks received in patches. */
  blocksReceived: number
  /** Reconciliation messages (`ranges`) sent and received. */
  rangeMessages: number
  /** Reconciliation passes begun (one, plus one per resume past a message cap). */
  passes: number
  /** Bad messages received (strikes). */
  strikes: number
  /** Error messages received from the peer, newest last (at most 16 kept). */
  errors: {
    /** The error's code (`KERNEL_*`, `FEED_*`...). */
    code: string
    /** Its human-readable reason. */
    reason: string
  }[]
}

const noop = () => {}

/** Orders byte strings: lexicographic, a prefix first. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!
  }
  return a.length - b.length
}

/** An error message for `err`: its code (`KERNEL_PROTOCOL` for an untyped error) and text. */
function errorBytes(err: unknown): Uint8Array {
  const code = err instanceof PicoError ? err.code : 'KERNEL_PROTOCOL'
  const reason = err instanceof Error ? err.message : String(err)
  return encodeMessage({ type: 'error', code, reason })
}

/**
 * One sync session with one peer over one wire (docs/protocol.md): handshake,
 * reconciliation ({@link Reconciler}), patches of what the peer lacks (out: {@link Outbox},
 * in: {@link PatchIn}), gossip of new blocks, typed refusals of bad messages, keepalive. Incoming messages are bounded on arrival ({@link Backlog}) and
 * processed one at a time, in order; outgoing work runs in the session's {@link Outbox}.
 */
export class Session {
  /** The remote's hello, once received. */
  remote: Hello | undefined
  readonly stats: SessionStats = {
    messagesIn: 0,
    messagesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    blocksSent: 0,
    blocksReceived: 0,
    rangeMessages: 0,
    passes: 0,
    strikes: 0,
    errors: [],
  }
  /** Random per connection (8 B); both nonces XORed name the connection. */
  readonly nonce: Uint8Array
  readonly connectedAt: number
  /** The remote's address, as the transport told `spawnWire` (undefined when it did not). */
  readonly address: string | undefined
  /** True once the kernel admitted the session as a peer (after the remote's hello). */
  admitted = false
  #closed = false
  /** The reconciliation, once the peer was admitted. */
  #reconciler: Reconciler | undefined
  #inbox: Promise<void> = Promise.resolve()
  /** Decodes received messages and checks patches' signatures ahead of the inbox. */
  readonly #preparer: Preparer
  readonly #backlog: Backlog
  readonly #keepalive: Keepalive
  readonly #outbox: Outbox
  readonly #patchIn: PatchIn

  constructor(
    readonly plug: Plug,
    private readonly host: SessionHost,
    origin: SessionOrigin = {},
  ) {
    const { clock, limits } = host
    this.address = origin.address
    this.nonce = host.randomBytes(NONCE_BYTES)
    this.connectedAt = clock.now()
    this.#backlog = new Backlog(limits, clock)
    this.#preparer = new Preparer(limits, () => this.#closed)
    this.#keepalive = new Keepalive(clock, limits, {
      ping: () => this.#post({ type: 'ping' }),
      idle: (reason) => this.close(reason),
    })
    this.#outbox = new Outbox(host, {
      isClosed: () => this.#closed,
      send: (message) => this.#send(encodeMessage(message)),
      request: (message) => this.#request(message),
      fail: (err) => this.close(err),
      noteError: (code, reason) => this.#noteError(code, reason),
      countSent: (blocks) => {
        this.stats.blocksSent += blocks
      },
    })
    this.#patchIn = new PatchIn({
      source: host.source,
      ingest: (feed, chainId, key, height) => host.ingest(feed, chainId, key, height, this),
      learn: (chainKey, headId, height) => this.#outbox.learn(chainKey, headId, height),
      countReceived: (blocks) => {
        this.stats.blocksReceived += blocks
      },
    })
    plug.closed.then((reason) => this.#end(reason))
  }

  /** The remote's node id in hex (empty before its hello). */
  get id(): string {
    return this.remote ? toHex(this.remote.nodeId) : ''
  }

  /** True once the wire closed. */
  get closed(): boolean {
    return this.#closed
  }

  /** Sends our hello and starts the keepalive and idle timer; called when the wire opens. */
  start(): void {
    this.#post({
      type: 'hello',
      version: PROTOCOL_VERSION,
      nodeId: this.host.nodeId,
      nonce: this.nonce,
    })
    this.#keepalive.start()
  }

  /** Refuses the session before it starts: sends the error, then closes the wire. */
  refuse(reason: KernelError): void {
    this.#drop(reason)
  }

  /** Closes the wire (and so the session). */
  close(reason?: Error): void {
    this.plug.close(reason)
  }

  /**
   * Takes a message from the peer: over the rate limit it is refused at once (never
   * queued); otherwise it is decoded now, a patch's signatures are checked in the
   * background (one patch at a time, while the messages before it are handled), and it is
   * handled after the ones before it, in order.
   */
  receive(msg: Uint8Array, answer: Answer | undefined): Promise<void> {
    if (this.#closed) return Promise.resolve()
    this.stats.messagesIn++
    this.stats.bytesIn += msg.length
    this.#keepalive.received()
    const admission = this.#backlog.admit(msg)
    if ('refusal' in admission) {
      const { refusal, strike } = admission
      if (strike) this.#refuse(refusal, answer)
      else answer?.(errorBytes(refusal)).catch(noop)
      return Promise.resolve()
    }
    const prepared = this.#preparer.prepare(msg)
    const handled = this.#inbox.then(() => this.#handle(prepared, answer))
    this.#inbox = handled.finally(admission.done)
    return this.#inbox
  }

  /**
   * Marks a chain (hex id) as changed here: its new blocks are pushed to the peer (`eager`)
   * or announced (`have`).
   */
  touch(chainKey: string, eager: boolean): void {
    this.#outbox.touch(chainKey, eager ? 'push' : 'announce')
  }

  /** True when the peer is known to hold chain `chainKey` (hex) at `height` or higher. */
  holds(chainKey: string, height: number): boolean {
    return this.#outbox.holds(chainKey, height)
  }

  // ------------------------------------------------------------------ sending

  #send(bytes: Uint8Array): Promise<void> {
    this.stats.messagesOut++
    this.stats.bytesOut += bytes.length
    this.#keepalive.sent()
    return this.plug.postMessage(bytes)
  }

  /** Sends one-way without waiting; failures (a closed wire) are ignored. */
  #post(message: Message): void {
    if (this.#closed) return
    this.#send(encodeMessage(message)).catch(noop)
  }

  async #request(message: Message): Promise<Message> {
    const bytes = encodeMessage(message)
    this.stats.messagesOut++
    this.stats.bytesOut += bytes.length
    this.#keepalive.sent()
    const [reply] = await this.plug.postMessage(bytes, true)
    this.stats.messagesIn++
    this.stats.bytesIn += reply.length
    this.#keepalive.received()
    return decodeMessage(reply, this.host.limits)
  }

  #noteError(code: string, reason: string): void {
    const errors = this.stats.errors
    errors.push({ code, reason })
    if (errors.length > 16) errors.shift()
  }

  // ------------------------------------------------------------------ receiving

  async #handle(prepared: Prepared | Promise<Prepared>, answer: Answer | undefined): Promise<void> {
    if (this.#closed) return
    try {
      const { message, feeds, verified, error } = await prepared
      if (this.#closed) return
      if (!message) throw error
      // An error may come first: a kernel refusing the session says why before closing.
      if (!this.remote && message.type !== 'hello' && message.type !== 'error') {
        throw new KernelError('KERNEL_PROTOCOL', `${message.type} before hello`)
      }
      const expectsReply = message.type === 'patch' || message.type === 'query'
      if (expectsReply !== (answer !== undefined)) {
        throw new KernelError(
          'KERNEL_PROTOCOL',
          `${message.type} ${expectsReply ? 'must' : 'must not'} expect a reply`,
        )
      }
      switch (message.type) {
        case 'hello':
          return this.#onHello(message)
        case 'ranges':
          if (!this.#reconciler) return // refused: the session is closing
          this.stats.rangeMessages++
          if (message.salt) this.stats.passes++
          return await this.#reconciler.receive(message)
        case 'have':
          return await this.#onHave(message)
        case 'patch':
          return await this.#onPatch(message, feeds!, verified!, answer!)
        case 'want':
          return await this.#onWant(message)
        case 'query':
          return await this.#onQuery(message.payload, answer!)
        case 'signal':
          if (!this.host.signal) throw new KernelError('KERNEL_PROTOCOL', 'no signalling here')
          return this.host.signal(message.payload, this)
        case 'ping':
          return // receiving it was the point (the idle timer)
        case 'error':
          return this.#noteError(message.code, message.reason)
        case 'ack':
        case 'answer':
          throw new KernelError('KERNEL_PROTOCOL', `${message.type} is only a reply`)
      }
    } catch (err) {
      this.#refuse(err, answer)
    }
  }

  /**
   * Replies with a typed error and counts a strike; at `maxStrikes` the peer is
   * disconnected with `KERNEL_MISBEHAVING`.
   */
  #refuse(err: unknown, answer: Answer | undefined): void {
    if (this.#closed) return
    if (err instanceof KernelError && err.code === 'KERNEL_MISBEHAVING') {
      this.#post({ type: 'error', code: err.code, reason: err.message })
      this.plug.destroy(err) // past a session budget: no strikes left to count
      return
    }
    const reason = err instanceof Error ? err.message : String(err)
    const bytes = errorBytes(err)
    if (answer) answer(bytes).catch(noop)
    else this.#send(bytes).catch(noop)
    this.stats.strikes++
    if (this.stats.strikes >= this.host.limits.maxStrikes) {
      const misbehaving = new KernelError(
        'KERNEL_MISBEHAVING',
        `${this.stats.strikes} bad messages; last: ${reason}`,
        { cause: err },
      )
      this.#post({ type: 'error', code: misbehaving.code, reason: misbehaving.message })
      // Destroyed, not ended: a peer that never closes its side keeps nothing of ours.
      this.plug.destroy(misbehaving)
    }
  }

  /** Refuses without a strike and closes (version mismatch, duplicate connection). */
  #drop(err: KernelError): void {
    this.#post({ type: 'error', code: err.code, reason: err.message })
    this.close(err)
  }

  #onHello(hello: Hello): void {
    if (this.remote) throw new KernelError('KERNEL_PROTOCOL', 'a second hello')
    if (hello.version !== PROTOCOL_VERSION) {
      this.#drop(
        new KernelError(
          'KERNEL_VERSION',
          hello.version === 1
            ? `protocol version 1 (chain summaries); this peer speaks ${PROTOCOL_VERSION} (range reconciliation, docs/protocol.md): upgrade the peer`
            : `protocol version ${hello.version}, this peer speaks ${PROTOCOL_VERSION}`,
        ),
      )
      return
    }
    this.remote = hello
    const refusal = this.host.admit(this)
    if (refusal) {
      this.#drop(refusal)
      return
    }
    this.#outbox.start()
    this.#reconciler = this.#newReconciler(compareBytes(this.host.nodeId, hello.nodeId) < 0)
    this.#reconciler.start().catch((err) => this.#refuse(err, undefined))
  }

  #newReconciler(initiator: boolean): Reconciler {
    const outbox = this.#outbox
    return new Reconciler(
      {
        source: this.host.source,
        limits: this.host.limits,
        isClosed: () => this.#closed,
        randomBytes: (n) => this.host.randomBytes(n),
        send: (message) => {
          this.stats.rangeMessages++
          if (message.salt) this.stats.passes++
          this.#post(message)
        },
        pushRange: (prefix, except) => outbox.pushRange(prefix, except),
        lacks: (chainId) => outbox.lacks(toHex(chainId)),
        learn: (head) => {
          const chainKey = toHex(head.chainId)
          outbox.learn(chainKey, head.headId, head.height)
          outbox.touch(chainKey, 'push')
        },
        want: (chain) =>
          this.#post({
            type: 'want',
            chainId: chain.chainId,
            height: chain.height,
            headId: chain.headId,
          }),
      },
      initiator,
    )
  }

  /**
   * Heads the peer announced: each one we lack (and no other session asked for lately) is
   * asked for with `want` from our head of its chain; each is recorded as held by the peer.
   */
  async #onHave(have: Have): Promise<void> {
    const { source } = this.host
    for (const head of have.heads) {
      const chainKey = toHex(head.chainId)
      const mine = await source.summary(head.chainId)
      if (this.#closed) return
      // Remembered only for chains we hold (what a peer announces costs nothing otherwise).
      if (mine) this.#outbox.learn(chainKey, head.headId, head.height)
      if (mine && (await source.chainOf(head.headId))) continue // held already
      if (!this.host.claimWant(chainKey, head.height, this)) continue
      this.#post({
        type: 'want',
        chainId: head.chainId,
        height: mine?.height ?? 0,
        headId: mine?.headId,
      })
    }
  }

  /** A patch: its segments merged in order, acknowledged, then the wants its gaps call for. */
  async #onPatch(patch: Patch, feeds: Feed[], verified: number, answer: Answer): Promise<void> {
    const { accepted, wants } = await this.#patchIn.receive(patch, feeds, verified)
    await answer(encodeMessage({ type: 'ack', accepted })).catch(noop)
    for (const want of wants) this.#post(want)
  }

  /** A want for a chain we hold resets our record of it and offers it again; others are ignored. */
  async #onWant(want: Want): Promise<void> {
    const chainKey = toHex(want.chainId)
    this.#outbox.assertCanWant(chainKey)
    if (!(await this.host.source.summary(want.chainId)) || this.#closed) return
    this.#outbox.want(chainKey, want.headId, want.height)
  }

  async #onQuery(payload: Uint8Array, answer: Answer): Promise<void> {
    let reply: Uint8Array
    try {
      reply = await this.host.answer(payload, this)
    } catch (err) {
      // The application refused: a typed error, not the peer's fault (no strike).
      await answer(errorBytes(err)).catch(noop)
      return
    }
    await answer(encodeMessage({ type: 'answer', payload: reply })).catch(noop)
  }

  /** Sends a signalling message to the peer (one-way; dropped once the session closed). */
  signal(payload: Uint8Array): void {
    this.#post({ type: 'signal', payload })
  }

  /**
   * Sends an application query to the peer and resolves with its answer.
   * @throws KERNEL_REMOTE_ERROR when the peer answers with an error message
   * @throws KERNEL_PROTOCOL when the reply is not an answer
   * @throws NET_* when the wire fails (closed, timeout)
   */
  async query(payload: Uint8Array): Promise<Uint8Array> {
    const reply = await this.#request({ type: 'query', payload })
    if (reply.type === 'answer') return reply.payload
    if (reply.type === 'error') {
      throw new KernelError('KERNEL_REMOTE_ERROR', `${reply.code}: ${reply.reason}`)
    }
    throw new KernelError('KERNEL_PROTOCOL', `a ${reply.type} in reply to a query`)
  }

  #end(reason: Error | undefined): void {
    if (this.#closed) return
    this.#closed = true
    this.#keepalive.stop()
    this.#outbox.stop()
    this.host.leave(this, reason)
  }
}
