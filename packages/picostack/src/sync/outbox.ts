import { type Block, bytesEqual, type Feed, fromHex, MAGIC, toHex } from '@picostack/feed'
import type { ChainSummary } from '@picostack/repo'
import type { Clock } from '@picostack/store'
import { KernelError } from '../errors.ts'
import type { ChainSource } from './chain-source.ts'
import type { SyncLimits } from './limits.ts'
import { encodeMessage, type Message, type Patch, type Segment } from './messages.ts'
import { RemoteHeads } from './remote-heads.ts'
import { TokenBucket } from './token-bucket.ts'

/** What the outbox needs of the kernel. */
export interface OutboxHost {
  readonly limits: SyncLimits
  /** The kernel's chains. */
  readonly source: ChainSource
  readonly clock: Clock
}

/** How the outbox reaches its session. */
export interface OutboxLink {
  /** True once the session closed. */
  isClosed(): boolean
  /** Sends one-way; resolves once written. */
  send(bytes: Uint8Array): Promise<void>
  /** Sends a request; resolves with the decoded reply. */
  request(message: Message): Promise<Message>
  /** The outgoing work failed: the session closes with `err`. */
  fail(err: Error): void
  /** The peer answered a patch with an error. */
  noteError(code: string, reason: string): void
  /** Counts blocks sent in patches. */
  countSent(blocks: number): void
}

/** Blocks packed for the next outgoing patch, one segment per chain. */
interface Outgoing {
  segments: Segment[]
  /** Feed bytes of all segments. */
  bytes: number
  blocks: number
}

const noop = () => {}

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

/**
 * The outgoing side of one session (docs/protocol.md, steps 2-6): our summary, then what
 * the peer lacks of every chain once its summary ended, then the chains that change. It
 * remembers what the peer holds (per chain this kernel holds: {@link RemoteHeads}), so no
 * block goes twice to the same peer, and paces itself to half the peer's rate limit with
 * at most `patchWindow` patches in flight. All of it runs in one pump.
 */
export class Outbox {
  readonly #heads: RemoteHeads
  readonly #bucket: TokenBucket
  /** Chains (hex ids) changed here since they were last offered. */
  readonly #dirty = new Set<string>()
  /** Chains the peer asked for with `want` that wait in {@link Outbox.#dirty}. */
  readonly #wanted = new Set<string>()
  readonly #inflight: Promise<void>[] = []
  #outgoing: Outgoing = { segments: [], bytes: 0, blocks: 0 }
  #started = false
  #summarySent = false
  #ready = false
  #fullPass = false
  #pumping = false

  constructor(
    private readonly host: OutboxHost,
    private readonly link: OutboxLink,
  ) {
    const { burst, ratePerSec, maxRemoteChains } = host.limits
    this.#heads = new RemoteHeads(maxRemoteChains)
    const now = () => host.clock.now()
    this.#bucket = new TokenBucket(Math.max(1, burst >> 1), Math.max(1, ratePerSec / 2), now)
  }

  /** True once the peer's last summary page arrived. */
  get ready(): boolean {
    return this.#ready
  }

  /** The peer was admitted: send our summary. */
  start(): void {
    this.#started = true
    this.#pump()
  }

  /** The peer's last summary page arrived: offer it every chain it lacks. */
  peerReady(): void {
    this.#ready = true
    this.#fullPass = true
    this.#pump()
  }

  /** Marks a chain (hex id) as changed here: the pump offers its new blocks to the peer. */
  touch(chainKey: string): void {
    if (this.link.isClosed()) return
    this.#dirty.add(chainKey)
    this.#pump()
  }

  /**
   * Checks that the peer may ask for chain `chainKey`: it already waits, or fewer than
   * `maxWants` wanted chains do.
   * @throws KERNEL_FLOOD when `maxWants` other wanted chains already wait
   */
  assertCanWant(chainKey: string): void {
    const { maxWants } = this.host.limits
    if (!this.#wanted.has(chainKey) && this.#wanted.size >= maxWants) {
      throw new KernelError('KERNEL_FLOOD', `over ${maxWants} wanted chains waiting`)
    }
  }

  /**
   * The peer asked for chain `chainKey` (which we hold) after `headId` at `height`, or for
   * all of it (`headId` undefined): our record of it is reset and it is offered again.
   * Check {@link Outbox.assertCanWant} first.
   */
  want(chainKey: string, headId: Uint8Array | undefined, height: number): void {
    if (headId) this.#heads.set(chainKey, headId, height)
    else this.#heads.delete(chainKey)
    this.#wanted.add(chainKey)
    this.touch(chainKey)
  }

  /**
   * Records that the peer holds chain `chainKey` up to `headId` at `height` (heights only
   * grow: older news is ignored). With the table full (`maxRemoteChains`) a new chain is not
   * recorded: its blocks may then be offered again, which the peer's store ignores.
   */
  learn(chainKey: string, headId: Uint8Array, height: number): void {
    const known = this.#heads.get(chainKey)
    if (known && known.height >= height) return
    this.#heads.set(chainKey, headId, height)
  }

  /** Drops what waits (the session ended). */
  stop(): void {
    this.#dirty.clear()
    this.#wanted.clear()
  }

  /** Waits for the outgoing token bucket (an honest sender stays under the peer's rate). */
  async #pace(): Promise<void> {
    for (let waitMs = this.#bucket.waitMs(); waitMs > 0; waitMs = this.#bucket.waitMs()) {
      await new Promise<void>((resolve) => this.host.clock.setTimeout(resolve, waitMs))
    }
    this.#bucket.take()
  }

  /** Runs the outgoing work: our summary, then every changed chain, until none is left. */
  async #pump(): Promise<void> {
    if (this.#pumping || this.link.isClosed() || !this.#started) return
    this.#pumping = true
    try {
      if (!this.#summarySent) {
        this.#summarySent = true
        await this.#sendSummary()
      }
      while (!this.link.isClosed() && this.#ready) {
        if (this.#fullPass) {
          this.#fullPass = false
          this.#dirty.clear()
          this.#wanted.clear()
          for (const chain of await this.host.source.allChains()) await this.#offer(chain)
        } else if (this.#dirty.size > 0) {
          const [chainKey] = this.#dirty
          this.#dirty.delete(chainKey!)
          this.#wanted.delete(chainKey!)
          const chain = await this.host.source.summary(fromHex(chainKey!))
          if (chain) await this.#offer(chain)
        } else if (this.#outgoing.segments.length > 0) {
          await this.#flush() // no more changes for now: send what is packed
        } else {
          break
        }
      }
    } catch (err) {
      if (!this.link.isClosed()) this.link.fail(err instanceof Error ? err : new Error(String(err)))
    } finally {
      this.#pumping = false
    }
  }

  async #sendSummary(): Promise<void> {
    // A partial chain's id and height are claims (repo: `proven` false): announcing them as
    // ours would tell the peer we hold a chain it may hold for real, and stop it sending.
    const chains = (await this.host.source.allChains()).filter((c) => c.proven)
    const page = this.host.limits.maxSummaryChains
    for (let start = 0; start === 0 || start < chains.length; start += page) {
      const entries = chains.slice(start, start + page).map((c) => ({
        chainId: c.chainId,
        author: c.author,
        headId: c.headId,
        height: c.height,
      }))
      await this.#pace()
      await this.link.send(
        encodeMessage({ type: 'summary', chains: entries, last: start + page >= chains.length }),
      )
    }
  }

  /** Sends the blocks of `chain` the peer lacks, as far as we know what it holds. */
  async #offer(chain: ChainSummary): Promise<void> {
    const { source } = this.host
    const known = this.#heads.get(toHex(chain.chainId))
    if (known && (known.height >= chain.height || bytesEqual(known.headId, chain.headId))) return
    let feed: Feed | undefined
    if (!known) {
      feed = await source.loadFeed(chain.headId)
    } else {
      const missing = chain.height - known.height
      if (missing <= chain.length) feed = await source.loadFeed(chain.headId, missing)
      const first = feed?.first
      if (!first || first.genesis || !bytesEqual(first.psig, known.headId)) {
        // Heights disagree (a partial chain): find the peer's head by id, if we hold it.
        const holder = await source.chainOf(known.headId)
        if (!holder || !bytesEqual(holder, chain.chainId)) return // a fork, or the peer is ahead
        feed = await source.loadFeed(chain.headId, (block) => bytesEqual(block.sig, known.headId))
      }
    }
    if (!feed || feed.length === 0) return
    await this.#sendBlocks(chain.chainId, chain.height - feed.length + 1, feed.blocks)
  }

  /**
   * Packs `blocks` of one chain (heights from `height`) into outgoing patches: a segment per
   * chain per patch, at most `maxPatchBytes` of feed and `maxPatchChains` segments in each.
   * A full patch goes out at once; the last one waits for more chains ({@link Outbox.#flush}).
   */
  async #sendBlocks(chainId: Uint8Array, height: number, blocks: readonly Block[]): Promise<void> {
    const { maxPatchBytes, maxPatchChains } = this.host.limits
    const chainKey = toHex(chainId)
    for (let start = 0; start < blocks.length && !this.link.isClosed(); ) {
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
      this.learn(chainKey, segment[segment.length - 1]!.sig, height + end - 1)
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
    if (this.link.isClosed()) return
    this.link.countSent(out.blocks)
    const patch: Patch = { type: 'patch', segments: out.segments }
    this.#inflight.push(this.link.request(patch).then(this.#onPatchReply, noop))
  }

  readonly #onPatchReply = (reply: Message): void => {
    if (reply.type === 'error') this.link.noteError(reply.code, reply.reason)
  }
}
