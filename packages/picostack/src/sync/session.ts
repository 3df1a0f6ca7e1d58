import {
  type Block,
  bytesEqual,
  Feed,
  FeedError,
  fromHex,
  MAGIC,
  PicoError,
  toHex,
} from '@picostack/feed'
import type { Answer, Plug } from '@picostack/net'
import { type ChainSummary, type Repo, verifyBlocks } from '@picostack/repo'
import type { Clock } from '@picostack/store'
import { KernelError } from '../errors.ts'
import type { RandomBytes } from '../random.ts'
import { NONCE_BYTES, PROTOCOL_VERSION, type SyncLimits } from './limits.ts'
import {
  type ChainHead,
  decodeMessage,
  encodeMessage,
  type Hello,
  type Message,
  type Patch,
  type Segment,
  type Summary,
  type Want,
} from './messages.ts'
import { RemoteHeads } from './remote-heads.ts'
import { TokenBucket } from './token-bucket.ts'

/** What a session needs from the kernel that runs it. */
export interface SessionHost {
  /** This kernel's node id (16 B). */
  readonly nodeId: Uint8Array
  readonly limits: SyncLimits
  readonly repo: Repo
  /** Time source and timer of the session's timers. */
  readonly clock: Clock
  /** Source of the connection nonce. */
  readonly randomBytes: RandomBytes
  /**
   * Dispatches a patch received from `source` whose signatures were verified (and gossips
   * what merged). `height`: the first block's height, for a partial chain it starts.
   * @returns how many blocks merged
   */
  ingest(feed: Feed, chainId: Uint8Array, height: number, source: Session): Promise<number>
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

/** Bytes of one packed summary entry: chain id (64 B), head id (64 B), height (u32). */
const PACKED_HEAD_BYTES = 64 + 64 + 4

/** A summary page's entries packed into one buffer (the decoded objects are let go). */
interface PackedHeads {
  bytes: Uint8Array
  count: number
}

function packHeads(chains: readonly ChainHead[]): PackedHeads {
  const bytes = new Uint8Array(chains.length * PACKED_HEAD_BYTES)
  const view = new DataView(bytes.buffer)
  for (const [i, chain] of chains.entries()) {
    const at = i * PACKED_HEAD_BYTES
    bytes.set(chain.chainId, at)
    bytes.set(chain.headId, at + 64)
    view.setUint32(at + 128, chain.height)
  }
  return { bytes, count: chains.length }
}

/** A received message decoded, and for a patch its feeds parsed and its signatures checked. */
interface Prepared {
  /** The message (a summary's `chains` emptied: they are in {@link Prepared.heads}). */
  message?: Message
  /** A summary page's entries, packed. */
  heads?: PackedHeads
  /** One feed per segment of a patch, structure and links checked. */
  feeds?: Feed[]
  /** How many of the patch's blocks (all segments in order) verify before the first forged one. */
  verified?: number
  /** Why the message is refused. */
  error?: unknown
}

/** Blocks packed for the next outgoing patch, one segment per chain. */
interface Outgoing {
  segments: Segment[]
  /** Feed bytes of all segments. */
  bytes: number
  blocks: number
}

const noop = () => {}

/** The message type of `msg` when it looks like a request (a CBOR array of 2 starting with 3 or 7). */
function requestType(msg: Uint8Array): 'patch' | 'query' | undefined {
  if (msg[0] !== 0x82) return undefined
  return msg[1] === 3 ? 'patch' : msg[1] === 7 ? 'query' : undefined
}

/** Feed bytes (with `PIC0`) of `blocks`. */
function feedBytes(blocks: readonly Block[]): Uint8Array {
  let size = MAGIC.length
  for (const block of blocks) size += block.blockSize
  const out = new Uint8Array(size)
  out.set(MAGIC)
  let at = MAGIC.length
  for (const block of blocks) {
    out.set(block.buffer, at)
    at += block.blockSize
  }
  return out
}

function errorCode(err: unknown): string {
  return err instanceof PicoError ? err.code : 'KERNEL_PROTOCOL'
}

/**
 * One sync session with one peer over one wire (docs/protocol.md): handshake, summary
 * exchange, then patches of what the peer lacks, gossip of new blocks, typed refusals of
 * bad messages. Incoming messages are processed one at a time, in order; outgoing work
 * runs in one pump per session.
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
  #summaryOut = false
  #ready = false
  #fullPass = false
  #pumping = false
  readonly #dirty = new Set<string>()
  /** Chains the peer asked for with `want` that wait in {@link Session.#dirty}. */
  readonly #wanted = new Set<string>()
  readonly #heads: RemoteHeads
  /** Summary entries the peer announced so far (at most `maxRemoteChains`). */
  #announced = 0
  #inbox: Promise<void> = Promise.resolve()
  /** Bytes of the messages received and not handled yet. */
  #inboxBytes = 0
  /** Patches received and not answered yet. */
  #patchesWaiting = 0
  /** Queries received and not answered yet. */
  #queriesWaiting = 0
  #lastReceivedAt: number
  #lastSentAt: number
  /** The keepalive / idle timer (one per session). */
  #timer: unknown
  /** Signature checks of received patches, one patch at a time, ahead of the inbox. */
  #verifying: Promise<unknown> = Promise.resolve()
  readonly #inflight: Promise<void>[] = []
  #outgoing: Outgoing = { segments: [], bytes: 0, blocks: 0 }
  readonly #inBucket: TokenBucket
  readonly #outBucket: TokenBucket

  constructor(
    readonly plug: Plug,
    private readonly host: SessionHost,
    origin: SessionOrigin = {},
  ) {
    const { burst, ratePerSec, maxRemoteChains } = host.limits
    const { clock } = host
    this.address = origin.address
    this.nonce = host.randomBytes(NONCE_BYTES)
    this.connectedAt = clock.now()
    this.#lastReceivedAt = this.connectedAt
    this.#lastSentAt = this.connectedAt
    this.#heads = new RemoteHeads(maxRemoteChains)
    const now = () => clock.now()
    this.#inBucket = new TokenBucket(burst, ratePerSec, now)
    this.#outBucket = new TokenBucket(Math.max(1, burst >> 1), Math.max(1, ratePerSec / 2), now)
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
    this.#arm()
  }

  /** Refuses the session before it starts: sends the error, then closes the wire. */
  refuse(reason: KernelError): void {
    this.#drop(reason)
  }

  /** Closes the wire (and so the session). */
  close(reason?: Error): void {
    this.plug.close(reason)
  }

  /** Arms the timer for the next keepalive or idle deadline, whichever comes first. */
  #arm(): void {
    if (this.#closed) return
    const { clock, limits } = this.host
    const due = Math.min(
      this.#lastReceivedAt + limits.idleTimeoutMs,
      this.#lastSentAt + limits.keepaliveMs,
    )
    this.#timer = clock.setTimeout(this.#tick, Math.max(1, due - clock.now()))
  }

  /** Closes an idle session, or pings the peer after `keepaliveMs` without sending. */
  readonly #tick = (): void => {
    if (this.#closed) return
    const { clock, limits } = this.host
    const now = clock.now()
    if (now - this.#lastReceivedAt >= limits.idleTimeoutMs) {
      this.close(
        new KernelError('KERNEL_IDLE_TIMEOUT', `nothing received for ${limits.idleTimeoutMs} ms`),
      )
      return
    }
    if (now - this.#lastSentAt >= limits.keepaliveMs) this.#post({ type: 'ping' })
    this.#arm()
  }

  /**
   * Takes a message from the peer: over the rate limit it is refused at once (never
   * queued); otherwise it is decoded now, a patch's signatures are checked in the
   * background (one patch at a time, while the messages before it are handled), and it is
   * handled after the ones before it, in order.
   */
  receive(msg: Uint8Array, answer: Answer | undefined): Promise<void> {
    if (this.#closed) return Promise.resolve()
    const { limits } = this.host
    this.stats.messagesIn++
    this.stats.bytesIn += msg.length
    this.#lastReceivedAt = this.host.clock.now()
    if (!this.#inBucket.take()) {
      const { ratePerSec, burst } = limits
      this.#refuse(
        new KernelError('KERNEL_FLOOD', `over ${ratePerSec} messages per second (burst ${burst})`),
        answer,
      )
      return Promise.resolve()
    }
    if (this.#inboxBytes + msg.length > limits.maxInboxBytes) {
      this.#refuse(
        new KernelError('KERNEL_FLOOD', `over ${limits.maxInboxBytes} bytes waiting to be handled`),
        answer,
      )
      return Promise.resolve()
    }
    const request = requestType(msg)
    if (request === 'patch' && this.#patchesWaiting >= 2 * limits.patchWindow) {
      this.#refuse(
        new KernelError('KERNEL_FLOOD', `over ${2 * limits.patchWindow} patches waiting`),
        answer,
      )
      return Promise.resolve()
    }
    if (request === 'query' && this.#queriesWaiting >= limits.maxPendingQueries) {
      // Not a strike: the asker's application may simply ask a lot; it may retry.
      const reason = `over ${limits.maxPendingQueries} queries waiting for an answer`
      answer?.(encodeMessage({ type: 'error', code: 'KERNEL_FLOOD', reason })).catch(noop)
      return Promise.resolve()
    }
    const prepared = this.#prepare(msg)
    this.#inboxBytes += msg.length
    if (request === 'patch') this.#patchesWaiting++
    if (request === 'query') this.#queriesWaiting++
    const handled = this.#inbox.then(() => this.#handle(prepared, answer))
    this.#inbox = handled.finally(() => {
      this.#inboxBytes -= msg.length
      if (request === 'patch') this.#patchesWaiting--
      if (request === 'query') this.#queriesWaiting--
    })
    return this.#inbox
  }

  /**
   * Decodes a message; for a patch, also checks its size and structure (FEED_DECODE,
   * FEED_PARENT, FEED_TOO_LARGE) and queues its signature check. Refusals are carried to
   * {@link Session.#handle}, so they are answered in arrival order.
   */
  #prepare(msg: Uint8Array): Prepared | Promise<Prepared> {
    const { limits } = this.host
    try {
      if (msg.length > limits.maxMessageBytes) {
        throw new KernelError(
          'KERNEL_TOO_LARGE',
          `message of ${msg.length} bytes, limit ${limits.maxMessageBytes}`,
        )
      }
      const message = decodeMessage(msg, limits)
      // A page's entries are packed at once: the queue holds about its bytes, not objects.
      if (message.type === 'summary') {
        return { message: { ...message, chains: [] }, heads: packHeads(message.chains) }
      }
      if (message.type !== 'patch') return { message }
      let size = 0
      for (const segment of message.segments) size += segment.feed.length
      if (size > limits.maxPatchBytes) {
        throw new KernelError(
          'KERNEL_TOO_LARGE',
          `patch of ${size} bytes of feed, limit ${limits.maxPatchBytes}`,
        )
      }
      const feeds = message.segments.map((s) => Feed.from(s.feed, { copy: false, verify: false }))
      const blocks = feeds.length === 1 ? feeds[0]!.blocks : feeds.flatMap((f) => f.blocks)
      // Not for a session that closed meanwhile (its inbox drops the message anyway).
      const checked = this.#verifying.then(() => (this.#closed ? 0 : verifyBlocks(blocks)))
      this.#verifying = checked.catch(noop)
      return checked.then(
        (verified) => ({ message, feeds, verified }),
        (error) => ({ error }),
      )
    } catch (error) {
      return { error }
    }
  }

  /** Marks a chain (hex id) as changed here: the pump offers its new blocks to the peer. */
  touch(chainKey: string): void {
    if (this.#closed) return
    this.#dirty.add(chainKey)
    this.#pump()
  }

  /**
   * Records that the peer holds chain `chainKey` up to `headId` at `height` (heights only
   * grow: older news is ignored). With the table full (`maxRemoteChains`) a new chain is not
   * recorded: its blocks may then be offered again, which the peer's store ignores.
   */
  #learn(chainKey: string, headId: Uint8Array, height: number): void {
    const known = this.#heads.get(chainKey)
    if (known && known.height >= height) return
    this.#heads.set(chainKey, headId, height)
  }

  // ------------------------------------------------------------------ sending

  #send(bytes: Uint8Array): Promise<void> {
    this.stats.messagesOut++
    this.stats.bytesOut += bytes.length
    this.#lastSentAt = this.host.clock.now()
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
    this.#lastSentAt = this.host.clock.now()
    const [reply] = await this.plug.postMessage(bytes, true)
    this.stats.messagesIn++
    this.stats.bytesIn += reply.length
    this.#lastReceivedAt = this.host.clock.now()
    return decodeMessage(reply, this.host.limits)
  }

  /** Waits for the outgoing token bucket (an honest sender stays under the peer's rate). */
  async #pace(): Promise<void> {
    for (let waitMs = this.#outBucket.waitMs(); waitMs > 0; waitMs = this.#outBucket.waitMs()) {
      await new Promise<void>((resolve) => this.host.clock.setTimeout(resolve, waitMs))
    }
    this.#outBucket.take()
  }

  /** Runs the outgoing work: our summary, then every changed chain, until none is left. */
  async #pump(): Promise<void> {
    if (this.#pumping || this.#closed || !this.remote) return
    this.#pumping = true
    try {
      if (!this.#summaryOut) {
        this.#summaryOut = true
        await this.#sendSummary()
      }
      while (!this.#closed && this.#ready) {
        if (this.#fullPass) {
          this.#fullPass = false
          this.#dirty.clear()
          this.#wanted.clear()
          for (const chain of await this.host.repo.listFeeds()) await this.#offer(chain)
        } else if (this.#dirty.size > 0) {
          const [chainKey] = this.#dirty
          this.#dirty.delete(chainKey!)
          this.#wanted.delete(chainKey!)
          const chain = await this.host.repo.summary(fromHex(chainKey!))
          if (chain) await this.#offer(chain)
        } else if (this.#outgoing.segments.length > 0) {
          await this.#flush() // no more changes for now: send what is packed
        } else {
          break
        }
      }
    } catch (err) {
      if (!this.#closed) this.close(err instanceof Error ? err : new Error(String(err)))
    } finally {
      this.#pumping = false
    }
  }

  async #sendSummary(): Promise<void> {
    // A partial chain's id and height are claims (repo: `proven` false): announcing them as
    // ours would tell the peer we hold a chain it may hold for real, and stop it sending.
    const chains = (await this.host.repo.listFeeds()).filter((c) => c.proven)
    const page = this.host.limits.maxSummaryChains
    for (let start = 0; start === 0 || start < chains.length; start += page) {
      const entries = chains.slice(start, start + page).map((c) => ({
        chainId: c.chainId,
        author: c.author,
        headId: c.headId,
        height: c.height,
      }))
      await this.#pace()
      await this.#send(
        encodeMessage({ type: 'summary', chains: entries, last: start + page >= chains.length }),
      )
    }
  }

  /** Sends the blocks of `chain` the peer lacks, as far as we know what it holds. */
  async #offer(chain: ChainSummary): Promise<void> {
    const { repo } = this.host
    const chainKey = toHex(chain.chainId)
    const known = this.#heads.get(chainKey)
    if (known && (known.height >= chain.height || bytesEqual(known.headId, chain.headId))) return
    let feed: Feed | undefined
    if (!known) {
      feed = await repo.loadFeed(chain.headId)
    } else {
      const missing = chain.height - known.height
      if (missing <= chain.length) feed = await repo.loadFeed(chain.headId, missing)
      const first = feed?.first
      if (!first || first.genesis || !bytesEqual(first.psig, known.headId)) {
        // Heights disagree (a partial chain): find the peer's head by id, if we hold it.
        const holder = await repo.chainOf(known.headId)
        if (!holder || !bytesEqual(holder, chain.chainId)) return // a fork, or the peer is ahead
        feed = await repo.loadFeed(chain.headId, (block) => bytesEqual(block.sig, known.headId))
      }
    }
    if (!feed || feed.length === 0) return
    await this.#sendBlocks(chain.chainId, chain.height - feed.length + 1, feed.blocks)
  }

  /**
   * Packs `blocks` of one chain (heights from `height`) into outgoing patches: a segment per
   * chain per patch, at most `maxPatchBytes` of feed and `maxPatchChains` segments in each.
   * A full patch goes out at once; the last one waits for more chains ({@link Session.#flush}).
   */
  async #sendBlocks(chainId: Uint8Array, height: number, blocks: readonly Block[]): Promise<void> {
    const { maxPatchBytes, maxPatchChains } = this.host.limits
    const chainKey = toHex(chainId)
    for (let start = 0; start < blocks.length && !this.#closed; ) {
      const out = this.#outgoing
      let end = start
      let size = MAGIC.length
      while (
        end < blocks.length &&
        (out.bytes + size + blocks[end]!.blockSize <= maxPatchBytes ||
          (end === start && out.segments.length === 0)) // a block over the limit goes alone
      ) {
        size += blocks[end]!.blockSize
        end++
      }
      if (end === start) {
        await this.#flush() // the next block does not fit beside what is packed
        continue
      }
      const segment = blocks.slice(start, end)
      this.#learn(chainKey, segment[segment.length - 1]!.sig, height + end - 1)
      out.segments.push({ chainId, height: height + start, feed: feedBytes(segment) })
      out.bytes += size
      out.blocks += segment.length
      start = end
      if (out.segments.length >= maxPatchChains || end < blocks.length) await this.#flush()
    }
  }

  /** Sends the packed patch, if any, once fewer than `patchWindow` patches are in flight. */
  async #flush(): Promise<void> {
    const out = this.#outgoing
    if (out.segments.length === 0) return
    this.#outgoing = { segments: [], bytes: 0, blocks: 0 }
    while (this.#inflight.length >= this.host.limits.patchWindow) await this.#inflight.shift()
    await this.#pace()
    if (this.#closed) return
    this.stats.blocksSent += out.blocks
    const patch: Patch = { type: 'patch', segments: out.segments }
    this.#inflight.push(this.#request(patch).then(this.#onPatchReply, noop))
  }

  readonly #onPatchReply = (reply: Message): void => {
    if (reply.type === 'error') this.#noteError(reply.code, reply.reason)
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
      const { message, heads, feeds, verified, error } = await prepared
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
        case 'summary':
          return await this.#onSummary(message, heads!)
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
    const reason = err instanceof Error ? err.message : String(err)
    const bytes = encodeMessage({ type: 'error', code: errorCode(err), reason })
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
          `protocol version ${hello.version}, this peer speaks ${PROTOCOL_VERSION}`,
        ),
      )
      return
    }
    this.remote = hello
    const refusal = this.host.admit(this)
    if (refusal) this.#drop(refusal)
    else this.#pump()
  }

  /**
   * A summary page, handled as it arrives: the peer's head is remembered for the chains this
   * kernel holds (the full pass offers only those); the others are dropped (the peer sends
   * them to us). So what a peer announces costs nothing for chains we do not hold.
   */
  async #onSummary(summary: Summary, heads: PackedHeads): Promise<void> {
    const { repo, limits } = this.host
    if (this.#ready) throw new KernelError('KERNEL_PROTOCOL', 'a summary after the last page')
    if (this.#announced + heads.count > limits.maxRemoteChains) {
      throw new KernelError(
        'KERNEL_TOO_LARGE',
        `summary lists more than ${limits.maxRemoteChains} chains`,
      )
    }
    this.#announced += heads.count
    const { bytes } = heads
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const at = (i: number) => i * PACKED_HEAD_BYTES
    const held = await Promise.all(
      Array.from({ length: heads.count }, (_, i) =>
        repo.summary(bytes.subarray(at(i), at(i) + 64)),
      ),
    )
    if (this.#closed) return
    for (const [i, chain] of held.entries()) {
      if (!chain) continue
      const headId = bytes.subarray(at(i) + 64, at(i) + 128)
      this.#learn(toHex(chain.chainId), headId, view.getUint32(at(i) + 128))
    }
    if (summary.last) {
      this.#ready = true
      this.#fullPass = true
      this.#pump()
    }
  }

  /**
   * A patch whose segments were parsed into `feeds` and whose first `verified` blocks
   * verify ({@link Session.#prepare}). Segments are handled in order; a refused one stops
   * the patch (the ones before it stay merged) and is answered with its error.
   */
  async #onPatch(patch: Patch, feeds: Feed[], verified: number, answer: Answer): Promise<void> {
    let accepted = 0
    let checked = verified
    const wants: Want[] = []
    for (const [i, segment] of patch.segments.entries()) {
      const feed = feeds[i]!
      accepted += await this.#onSegment(segment, feed, checked, wants)
      checked -= feed.length
    }
    await answer(encodeMessage({ type: 'ack', accepted })).catch(noop)
    for (const want of wants) this.#post(want)
  }

  /**
   * One segment whose first `verified` blocks verify (all when it is at least the feed's
   * length). Adds a `want` to `wants` when the segment's parent is a gap in a chain we hold.
   * @returns how many blocks merged
   */
  async #onSegment(segment: Segment, feed: Feed, verified: number, wants: Want[]): Promise<number> {
    const { repo } = this.host
    const first = feed.first
    if (!first) throw new KernelError('KERNEL_PROTOCOL', 'an empty patch segment')
    let holder: Uint8Array | undefined
    if (first.genesis) {
      if (!bytesEqual(first.sig, segment.chainId)) {
        throw new KernelError('KERNEL_PROTOCOL', 'a genesis block whose id is not the chain id')
      }
    } else {
      holder = await repo.chainOf(first.psig)
      if (holder && !bytesEqual(holder, segment.chainId)) {
        throw new KernelError('KERNEL_PROTOCOL', 'the patch extends another chain than it names')
      }
    }
    const orphan = !first.genesis && !holder
    const forged = verified < feed.length
    const refusal = () =>
      new FeedError('FEED_SIGNATURE', `bad signature on block ${verified} of a patch segment`)
    // An orphan would wait in the store's mempool (persisted) or start a partial chain:
    // nothing of it is kept when any block is forged. Otherwise the valid blocks before a
    // forged one merge, and the forgery is refused (the peer's fault: a strike).
    if (forged && (orphan || verified <= 0)) throw refusal()
    const gap = orphan ? await repo.summary(segment.chainId) : undefined
    const valid = forged ? feed.slice(0, verified) : feed
    const accepted = await this.host.ingest(valid, segment.chainId, segment.height, this)
    if (forged) throw refusal()
    this.stats.blocksReceived += feed.length
    this.#learn(toHex(segment.chainId), feed.last!.sig, segment.height + feed.length - 1)
    if (gap) {
      // We hold the chain but not the segment's parent: ask for what lies between.
      wants.push({ type: 'want', chainId: segment.chainId, height: gap.height, headId: gap.headId })
    }
    return accepted
  }

  /** A want for a chain we hold resets our record of it and offers it again; others are ignored. */
  async #onWant(want: Want): Promise<void> {
    const { repo, limits } = this.host
    const chainKey = toHex(want.chainId)
    if (!this.#wanted.has(chainKey) && this.#wanted.size >= limits.maxWants) {
      throw new KernelError('KERNEL_FLOOD', `over ${limits.maxWants} wanted chains waiting`)
    }
    if (!(await repo.summary(want.chainId)) || this.#closed) return
    if (want.headId) this.#heads.set(chainKey, want.headId, want.height)
    else this.#heads.delete(chainKey)
    this.#wanted.add(chainKey)
    this.touch(chainKey)
  }

  async #onQuery(payload: Uint8Array, answer: Answer): Promise<void> {
    let reply: Uint8Array
    try {
      reply = await this.host.answer(payload, this)
    } catch (err) {
      // The application refused: a typed error, not the peer's fault (no strike).
      const reason = err instanceof Error ? err.message : String(err)
      await answer(encodeMessage({ type: 'error', code: errorCode(err), reason })).catch(noop)
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
    this.host.clock.clearTimeout(this.#timer)
    this.#dirty.clear()
    this.#wanted.clear()
    this.host.leave(this, reason)
  }
}
