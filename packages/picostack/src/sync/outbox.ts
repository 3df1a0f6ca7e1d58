import { type Block, bytesEqual, type Feed, fromHex, MAGIC, toHex } from '@picostack/feed'
import type { ChainSummary } from '@picostack/repo'
import type { Clock } from '@picostack/store'
import { KernelError } from '../errors.ts'
import type { ChainSource } from './chain-source.ts'
import type { SyncLimits } from './limits.ts'
import {
  type ChainHead,
  HAVE_OVERHEAD_BYTES,
  MAX_HAVE_HEAD_BYTES,
  type Message,
  type Patch,
  type Segment,
} from './messages.ts'
import { isInside } from './ranges.ts'
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
  send(message: Message): Promise<void>
  /** Sends a request; resolves with the decoded reply. */
  request(message: Message): Promise<Message>
  /** The outgoing work failed: the session closes with `err`. */
  fail(err: Error): void
  /** The peer answered a patch with an error. */
  noteError(code: string, reason: string): void
  /** Counts blocks sent in patches. */
  countSent(blocks: number): void
}

/** A range of chains to send whole (the peer holds none of them, or none but `except`). */
interface RangePush {
  /** Nibbles. */
  prefix: Uint8Array
  /** The last chain id sent of it (64 B), once a page went. */
  after?: Uint8Array
  /** First 8 bytes (hex) of the ids of chains the peer holds in the range. */
  except?: ReadonlySet<string>
}

/**
 * How a changed chain is offered: `announce` with `have`; `push` the blocks after the peer's
 * head (a `have` when we do not know its head and the chain is longer than one block);
 * `whole`: the peer holds nothing of it, send every block.
 */
export type OfferMode = 'announce' | 'push' | 'whole'

const MODE_RANK: Record<OfferMode, number> = { announce: 0, push: 1, whole: 2 }

/** Chains listed per page of a {@link RangePush}. */
const PUSH_PAGE = 256
/** Longest chain of a page loaded with the page (`listChainFeeds` reads its blocks by key). */
const BY_KEY_BLOCKS = 16

/** One chain's blocks packed for the next outgoing patch: its segment, before its bytes. */
interface PackedChain {
  chainId: Uint8Array // 64 B
  /** Height of the first block. */
  height: number
  blocks: readonly Block[]
}

/** Blocks packed for the next outgoing patch, one segment per chain. */
interface Outgoing {
  chains: PackedChain[]
  /** Feed bytes of all segments (each with its `PIC0`). */
  bytes: number
  blocks: number
}

const noop = () => {}

/**
 * The segments of `chains`, whose feed bytes (with `PIC0`; `bytes` in all) are views of
 * one buffer: a patch is encoded and dropped as a whole, and a typed array over 64 B of
 * its own costs V8 an allocation outside the young heap (~0.6 us on Node 20, a view ~30 ns).
 */
function segmentsOf(chains: readonly PackedChain[], bytes: number): Segment[] {
  const buffer = new Uint8Array(bytes)
  const segments = new Array<Segment>(chains.length)
  let at = 0
  for (let i = 0; i < chains.length; i++) {
    const { chainId, height, blocks } = chains[i]!
    const start = at
    buffer.set(MAGIC, at)
    at += MAGIC.length
    for (const block of blocks) {
      buffer.set(block.buffer, at)
      at += block.blockSize
    }
    segments[i] = { chainId, height, feed: buffer.subarray(start, at) }
  }
  return segments
}

/**
 * The outgoing side of one session (docs/protocol.md, "Patches" and "Gossip"): the ranges
 * and chains the reconciliation found the peer lacks, then the chains that change here.
 * It remembers what the peer holds (per chain: {@link RemoteHeads}, filled by what the
 * reconciliation, patches and announcements tell), so no block goes twice to the same peer,
 * and paces itself to half the peer's rate limit with at most `patchWindow` patches in
 * flight. A change is pushed (eager) or announced with `have` (lazy, the peer asks with
 * `want`). All of it runs in one pump.
 */
export class Outbox {
  readonly #heads: RemoteHeads
  readonly #bucket: TokenBucket
  /** Chains (hex ids) changed here since they were last offered, and how to offer them. */
  readonly #dirty = new Map<string, OfferMode>()
  /** Chains the peer asked for with `want` that wait in {@link Outbox.#dirty}. */
  readonly #wanted = new Set<string>()
  /** Ranges to send whole, in the order the reconciliation found them. */
  readonly #ranges: RangePush[] = []
  readonly #inflight: Promise<void>[] = []
  #outgoing: Outgoing = { chains: [], bytes: 0, blocks: 0 }
  /** Heads to announce in the next `have`. */
  #haves: ChainHead[] = []
  #started = false
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

  /** The peer was admitted: the pump may run. */
  start(): void {
    this.#started = true
    this.#pump()
  }

  /** Marks a chain (hex id) as changed here: the pump offers it to the peer as `mode` says. */
  touch(chainKey: string, mode: OfferMode): void {
    if (this.link.isClosed()) return
    const waiting = this.#dirty.get(chainKey)
    if (!waiting || MODE_RANK[mode] > MODE_RANK[waiting]) this.#dirty.set(chainKey, mode)
    this.#pump()
  }

  /**
   * The peer holds no chain in `prefix` but those whose ids start with `except` (8 B, hex):
   * send the rest. A range inside one already waiting whole is not queued again; past
   * `2 × maxRanges` waiting, they give way to one range of everything (what a fresh peer
   * gets; records keep what went already from going again), so what waits stays bounded.
   */
  pushRange(prefix: Uint8Array, except?: ReadonlySet<string>): void {
    if (this.link.isClosed()) return
    const ranges = this.#ranges
    if (ranges.some((r) => !r.except && !r.after && isInside(prefix, r.prefix))) return
    if (ranges.length >= 2 * this.host.limits.maxRanges) {
      ranges.length = 0
      ranges.push({ prefix: new Uint8Array(0) })
    } else {
      ranges.push(except ? { prefix, except } : { prefix })
    }
    this.#pump()
  }

  /**
   * The peer held nothing of chain `chainKey` (hex) when it said so: send it whole, unless
   * we sent it some since (then only what follows that).
   */
  lacks(chainKey: string): void {
    this.touch(chainKey, 'whole')
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
   * all of it (`headId` undefined): it is pushed from there. A record of ours that is ahead
   * of that claim stays (what we sent is on its way, or was held and dropped by the peer:
   * sending it again in this session would not help). Check {@link Outbox.assertCanWant} first.
   */
  want(chainKey: string, headId: Uint8Array | undefined, height: number): void {
    if (headId) this.learn(chainKey, headId, height)
    this.#wanted.add(chainKey)
    this.touch(chainKey, 'whole')
  }

  /**
   * Records that the peer holds chain `chainKey` up to `headId` at `height` (heights only
   * grow: older news is ignored). With the table full (`maxRemoteChains`) a new chain is not
   * recorded: its blocks may then be offered again, which the peer's store ignores.
   */
  learn(chainKey: string, headId: Uint8Array, height: number): void {
    this.#heads.raise(chainKey, headId, height)
  }

  /** True when the peer is known to hold chain `chainKey` at `height` or higher. */
  holds(chainKey: string, height: number): boolean {
    const known = this.#heads.height(chainKey)
    return known !== undefined && known >= height
  }

  /** Drops what waits (the session ended). */
  stop(): void {
    this.#dirty.clear()
    this.#wanted.clear()
    this.#ranges.length = 0
    this.#haves = []
  }

  /** Waits for the outgoing token bucket (an honest sender stays under the peer's rate). */
  async #pace(): Promise<void> {
    for (let waitMs = this.#bucket.waitMs(); waitMs > 0; waitMs = this.#bucket.waitMs()) {
      await new Promise<void>((resolve) => this.host.clock.setTimeout(resolve, waitMs))
    }
    this.#bucket.take()
  }

  /** Runs the outgoing work: ranges to push, then changed chains, until none is left. */
  async #pump(): Promise<void> {
    if (this.#pumping || this.link.isClosed() || !this.#started) return
    this.#pumping = true
    try {
      while (!this.link.isClosed()) {
        if (this.#ranges.length > 0) {
          await this.#pushPage(this.#ranges[0]!)
        } else if (this.#dirty.size > 0) {
          const [chainKey, mode] = this.#dirty.entries().next().value!
          this.#dirty.delete(chainKey)
          this.#wanted.delete(chainKey)
          const chain = await this.host.source.summary(fromHex(chainKey))
          if (chain) await this.#offer(chain, mode)
        } else if (this.#outgoing.chains.length > 0) {
          await this.#flush() // no more changes for now: send what is packed
        } else if (this.#haves.length > 0) {
          await this.#flushHaves()
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

  /**
   * Sends the next page of a range's chains (all of them, proven or not, but `except`).
   * The short chains the peer holds nothing of (as far as we know) are loaded together,
   * two reads for the page; the others one by one ({@link Outbox.#offer}).
   */
  async #pushPage(range: RangePush): Promise<void> {
    const page = await this.host.source.listChainFeeds({
      prefix: range.prefix,
      limit: PUSH_PAGE,
      maxBlocks: BY_KEY_BLOCKS,
      ...(range.after ? { after: range.after } : {}),
    })
    if (page.length < PUSH_PAGE) this.#ranges.shift()
    else range.after = page[page.length - 1]!.summary.chainId
    for (const { summary, feed } of page) {
      if (this.link.isClosed()) return
      if (range.except?.has(toHex(summary.chainId.subarray(0, 8)))) continue
      const chainKey = toHex(summary.chainId)
      // A chain the peer is known to hold some of (it told us, or a patch went meanwhile)
      // is offered as far as it lacks; a short one it lacks goes whole, as read.
      if (!feed || this.#heads.has(chainKey)) await this.#offer(summary, 'whole')
      else {
        const height = summary.height - feed.length + 1
        await this.#sendBlocks(summary.chainId, chainKey, height, feed.blocks)
      }
    }
  }

  /** Offers the blocks of `chain` the peer lacks (as `mode` says), as far as we know what it holds. */
  async #offer(chain: ChainSummary, mode: OfferMode): Promise<void> {
    const { source } = this.host
    const chainKey = toHex(chain.chainId)
    const known = this.#heads.get(chainKey)
    if (known && (known.height >= chain.height || bytesEqual(known.headId, chain.headId))) return
    const single = chain.length === 1 && chain.height === 1 // a one-block chain: its block is about a have
    if (mode === 'announce' || (mode === 'push' && !known && !single)) {
      this.#haves.push({ chainId: chain.chainId, headId: chain.headId, height: chain.height })
      if (this.#haves.length >= this.#maxHaves()) await this.#flushHaves()
      return
    }
    let feed: Feed | undefined
    if (!known) {
      // Every stored block (the summary's length of them): a short chain is read by key.
      feed = await source.loadFeed(chain.headId, chain.length)
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
    await this.#sendBlocks(chain.chainId, chainKey, chain.height - feed.length + 1, feed.blocks)
  }

  /**
   * Most heads in one `have`: `maxItems`, and no more than fit in `maxMessageBytes` (the
   * default 16,384 heads would take 2.2 MB, over the default 1 MiB).
   */
  #maxHaves(): number {
    const { maxItems, maxMessageBytes } = this.host.limits
    const fit = Math.floor((maxMessageBytes - HAVE_OVERHEAD_BYTES) / MAX_HAVE_HEAD_BYTES)
    return Math.max(1, Math.min(maxItems, fit))
  }

  async #flushHaves(): Promise<void> {
    const heads = this.#haves
    this.#haves = []
    await this.#pace()
    if (!this.link.isClosed()) await this.link.send({ type: 'have', heads })
  }

  /**
   * Packs `blocks` of one chain (`chainKey`: its id in hex; heights from `height`) into outgoing patches: a segment per
   * chain per patch, at most `maxPatchBytes` of feed and `maxPatchChains` segments in each.
   * A full patch goes out at once; the last one waits for more chains ({@link Outbox.#flush}).
   */
  async #sendBlocks(
    chainId: Uint8Array,
    chainKey: string,
    height: number,
    blocks: readonly Block[],
  ): Promise<void> {
    const { maxPatchBytes, maxPatchChains } = this.host.limits
    for (let start = 0; start < blocks.length && !this.link.isClosed(); ) {
      const out = this.#outgoing
      let end = start
      let size = MAGIC.length
      while (
        end < blocks.length &&
        (out.bytes + size + blocks[end]!.blockSize <= maxPatchBytes ||
          (end === start && out.chains.length === 0)) // a block over the limit goes alone
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
      out.chains.push({ chainId, height: height + start, blocks: segment })
      out.bytes += size
      out.blocks += segment.length
      start = end
      if (out.chains.length >= maxPatchChains || end < blocks.length) await this.#flush()
    }
  }

  /** Sends the packed patch, if any, once fewer than `patchWindow` patches are in flight. */
  async #flush(): Promise<void> {
    const out = this.#outgoing
    if (out.chains.length === 0) return
    this.#outgoing = { chains: [], bytes: 0, blocks: 0 }
    while (this.#inflight.length >= this.host.limits.patchWindow) await this.#inflight.shift()
    await this.#pace()
    if (this.link.isClosed()) return
    this.link.countSent(out.blocks)
    const patch: Patch = { type: 'patch', segments: segmentsOf(out.chains, out.bytes) }
    this.#inflight.push(this.link.request(patch).then(this.#onPatchReply, noop))
  }

  readonly #onPatchReply = (reply: Message): void => {
    if (reply.type === 'error') this.link.noteError(reply.code, reply.reason)
  }
}
