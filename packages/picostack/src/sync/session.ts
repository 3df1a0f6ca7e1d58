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
import { KernelError } from '../errors.ts'
import { NONCE_BYTES, PROTOCOL_VERSION, type SyncLimits } from './limits.ts'
import {
  decodeMessage,
  encodeMessage,
  type Hello,
  type Message,
  type Patch,
  type Summary,
  type Want,
} from './messages.ts'
import { TokenBucket } from './token-bucket.ts'

/** What a session needs from the kernel that runs it. */
export interface SessionHost {
  /** This kernel's node id (16 B). */
  readonly nodeId: Uint8Array
  readonly limits: SyncLimits
  readonly repo: Repo
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
  /** Called once when the session ends (admitted or not). */
  leave(session: Session, reason: Error | undefined): void
}

/** Counters of one session (both directions, protocol messages only). */
export interface SessionStats {
  messagesIn: number
  messagesOut: number
  bytesIn: number
  bytesOut: number
  /** Blocks sent in patches. */
  blocksSent: number
  /** Blocks received in patches. */
  blocksReceived: number
  /** Bad messages received (strikes). */
  strikes: number
  /** Error messages received from the peer, newest last (at most 16 kept). */
  errors: { code: string; reason: string }[]
}

/** What the remote is known to hold of a chain: its head and height (remote numbering). */
interface RemoteHead {
  headId: Uint8Array
  height: number
}

/** A received message decoded, and for a patch its feed parsed and its signatures checked. */
interface Prepared {
  message?: Message
  /** The patch's blocks, structure and links checked (not yet signatures). */
  feed?: Feed
  /** Index of the patch's first block that fails verification (`feed.length`: none). */
  bad?: number
  /** Why the message is refused. */
  error?: unknown
}

const noop = () => {}

function randomBytes(n: number): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(n))
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
  readonly nonce = randomBytes(NONCE_BYTES)
  readonly connectedAt = Date.now()
  #closed = false
  #summaryOut = false
  #ready = false
  #fullPass = false
  #pumping = false
  readonly #dirty = new Set<string>()
  readonly #heads = new Map<string, RemoteHead>()
  #inbox: Promise<void> = Promise.resolve()
  /** Signature checks of received patches, one patch at a time, ahead of the inbox. */
  #verifying: Promise<unknown> = Promise.resolve()
  readonly #inflight: Promise<void>[] = []
  readonly #inBucket: TokenBucket
  readonly #outBucket: TokenBucket

  constructor(
    readonly plug: Plug,
    private readonly host: SessionHost,
  ) {
    const { burst, ratePerSec } = host.limits
    this.#inBucket = new TokenBucket(burst, ratePerSec)
    this.#outBucket = new TokenBucket(Math.max(1, burst >> 1), Math.max(1, ratePerSec / 2))
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

  /** Sends our hello; called when the wire opens. */
  start(): void {
    this.#post({
      type: 'hello',
      version: PROTOCOL_VERSION,
      nodeId: this.host.nodeId,
      nonce: this.nonce,
    })
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
    if (!this.#inBucket.take()) {
      const { ratePerSec, burst } = this.host.limits
      this.#refuse(
        new KernelError('KERNEL_FLOOD', `over ${ratePerSec} messages per second (burst ${burst})`),
        answer,
      )
      return Promise.resolve()
    }
    const prepared = this.#prepare(msg)
    this.#inbox = this.#inbox.then(() => this.#handle(prepared, answer))
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
      if (message.type !== 'patch') return { message }
      if (message.feed.length > limits.maxPatchBytes) {
        throw new KernelError(
          'KERNEL_TOO_LARGE',
          `patch of ${message.feed.length} bytes, limit ${limits.maxPatchBytes}`,
        )
      }
      const feed = Feed.from(message.feed, { copy: false, verify: false })
      const verified = this.#verifying.then(() => verifyBlocks(feed.blocks))
      this.#verifying = verified.catch(noop)
      return verified.then(
        (bad) => ({ message, feed, bad }),
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
   * grow: older news is ignored).
   */
  #learn(chainKey: string, headId: Uint8Array, height: number): void {
    const known = this.#heads.get(chainKey)
    if (known && known.height >= height) return
    this.#heads.set(chainKey, { headId, height })
  }

  // ------------------------------------------------------------------ sending

  #send(bytes: Uint8Array): Promise<void> {
    this.stats.messagesOut++
    this.stats.bytesOut += bytes.length
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
    const [reply] = await this.plug.postMessage(bytes, true)
    this.stats.messagesIn++
    this.stats.bytesIn += reply.length
    return decodeMessage(reply, this.host.limits)
  }

  /** Waits for the outgoing token bucket (an honest sender stays under the peer's rate). */
  async #pace(): Promise<void> {
    for (let waitMs = this.#outBucket.waitMs(); waitMs > 0; waitMs = this.#outBucket.waitMs()) {
      await new Promise((resolve) => setTimeout(resolve, waitMs))
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
      while (!this.#closed && this.#ready && (this.#fullPass || this.#dirty.size > 0)) {
        if (this.#fullPass) {
          this.#fullPass = false
          this.#dirty.clear()
          for (const chain of await this.host.repo.listFeeds()) await this.#offer(chain)
          continue
        }
        const [chainKey] = this.#dirty
        this.#dirty.delete(chainKey!)
        const chain = await this.host.repo.summary(fromHex(chainKey!))
        if (chain) await this.#offer(chain)
      }
    } catch (err) {
      if (!this.#closed) this.close(err instanceof Error ? err : new Error(String(err)))
    } finally {
      this.#pumping = false
    }
  }

  async #sendSummary(): Promise<void> {
    const chains = await this.host.repo.listFeeds()
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

  /** Sends `blocks` (heights from `height`) as patches of at most `maxPatchBytes`. */
  async #sendBlocks(chainId: Uint8Array, height: number, blocks: readonly Block[]): Promise<void> {
    const { maxPatchBytes, patchWindow } = this.host.limits
    const chainKey = toHex(chainId)
    for (let start = 0; start < blocks.length && !this.#closed; ) {
      let end = start
      let size = MAGIC.length
      while (
        end < blocks.length &&
        (end === start || size + blocks[end]!.blockSize <= maxPatchBytes)
      ) {
        size += blocks[end]!.blockSize
        end++
      }
      const chunk = blocks.slice(start, end)
      const last = chunk[chunk.length - 1]!
      this.#learn(chainKey, last.sig, height + end - 1)
      while (this.#inflight.length >= patchWindow) await this.#inflight.shift()
      await this.#pace()
      this.stats.blocksSent += chunk.length
      const patch: Patch = {
        type: 'patch',
        chainId,
        height: height + start,
        feed: feedBytes(chunk),
      }
      this.#inflight.push(this.#request(patch).then(this.#onPatchReply, noop))
      start = end
    }
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
      const { message, feed, bad, error } = await prepared
      if (this.#closed) return
      if (!message) throw error
      if (!this.remote && message.type !== 'hello') {
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
          return this.#onSummary(message)
        case 'patch':
          return await this.#onPatch(message, feed!, bad!, answer!)
        case 'want':
          return this.#onWant(message)
        case 'query':
          return await this.#onQuery(message.payload, answer!)
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
      this.close(misbehaving)
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

  #onSummary(summary: Summary): void {
    if (this.#ready) throw new KernelError('KERNEL_PROTOCOL', 'a summary after the last page')
    if (this.#heads.size + summary.chains.length > this.host.limits.maxRemoteChains) {
      throw new KernelError(
        'KERNEL_TOO_LARGE',
        `summary lists more than ${this.host.limits.maxRemoteChains} chains`,
      )
    }
    for (const chain of summary.chains)
      this.#learn(toHex(chain.chainId), chain.headId, chain.height)
    if (summary.last) {
      this.#ready = true
      this.#fullPass = true
      this.#pump()
    }
  }

  /** A patch whose `feed` was parsed and verified up to block `bad` ({@link Session.#prepare}). */
  async #onPatch(patch: Patch, feed: Feed, bad: number, answer: Answer): Promise<void> {
    const { repo } = this.host
    const first = feed.first
    if (!first) throw new KernelError('KERNEL_PROTOCOL', 'an empty patch')
    let holder: Uint8Array | undefined
    if (first.genesis) {
      if (!bytesEqual(first.sig, patch.chainId)) {
        throw new KernelError('KERNEL_PROTOCOL', 'a genesis block whose id is not the chain id')
      }
    } else {
      holder = await repo.chainOf(first.psig)
      if (holder && !bytesEqual(holder, patch.chainId)) {
        throw new KernelError('KERNEL_PROTOCOL', 'the patch extends another chain than it names')
      }
    }
    const orphan = !first.genesis && !holder
    const forged = new FeedError('FEED_SIGNATURE', `bad signature on block ${bad} of the patch`)
    // An orphan would wait in the store's mempool (persisted) or start a partial chain:
    // nothing of it is kept when any block is forged. Otherwise the valid blocks before a
    // forged one merge, and the forgery is refused (the peer's fault: a strike).
    if (bad < feed.length && (orphan || bad === 0)) throw forged
    const gap = orphan ? await repo.summary(patch.chainId) : undefined
    const valid = bad < feed.length ? feed.slice(0, bad) : feed
    const accepted = await this.host.ingest(valid, patch.chainId, patch.height, this)
    if (bad < feed.length) throw forged
    this.stats.blocksReceived += feed.length
    this.#learn(toHex(patch.chainId), feed.last!.sig, patch.height + feed.length - 1)
    await answer(encodeMessage({ type: 'ack', accepted })).catch(noop)
    if (gap) {
      // We hold the chain but not the patch's parent: ask for what lies between.
      this.#post({ type: 'want', chainId: patch.chainId, height: gap.height, headId: gap.headId })
    }
  }

  #onWant(want: Want): void {
    const chainKey = toHex(want.chainId)
    if (want.headId) this.#heads.set(chainKey, { headId: want.headId, height: want.height })
    else this.#heads.delete(chainKey)
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
    this.#dirty.clear()
    this.host.leave(this, reason)
  }
}
