import { bytesEqual, type Feed, FeedError, toHex } from '@picostack/feed'
import { KernelError } from '../errors.ts'
import type { ChainSource } from './chain-source.ts'
import type { Patch, Segment, Want } from './messages.ts'

/** What {@link PatchIn} needs of its session. */
export interface PatchInLink {
  /** The kernel's chains. */
  readonly source: ChainSource
  /**
   * Merges verified blocks of chain `chainId` (its hex: `chainKey`; first block at
   * `height`) into the store.
   * @returns how many merged
   */
  ingest(feed: Feed, chainId: Uint8Array, chainKey: string, height: number): Promise<number>
  /** The peer holds chain `chainKey` (hex) up to `headId` at `height`. */
  learn(chainKey: string, headId: Uint8Array, height: number): void
  /** Counts blocks received. */
  countReceived(blocks: number): void
}

/**
 * The incoming side of patches (docs/protocol.md, "Patches" and "Gaps"): each segment is
 * checked against the chain it names, merged, recorded as held by the peer, and a segment
 * whose parent is a gap in a chain we hold yields a `want` for what lies between.
 */
export class PatchIn {
  constructor(private readonly link: PatchInLink) {}

  /**
   * A patch whose segments were parsed into `feeds` and whose first `verified` blocks
   * verify. Segments are handled in order; a refused one (a protocol fault or a forgery)
   * throws, the ones before it stay merged and nothing after it is ingested. A run of
   * consecutive genesis segments that name their chain and verify whole is ingested
   * together (the store applies them as one group, in order): when the store fails one of
   * them, the first failure throws once the whole run has settled.
   * @returns blocks merged and the wants to send once the patch is acknowledged
   * @throws KERNEL_PROTOCOL, FEED_SIGNATURE (a refused segment); the store's error
   */
  async receive(
    patch: Patch,
    feeds: Feed[],
    verified: number,
  ): Promise<{ accepted: number; wants: Want[] }> {
    let accepted = 0
    let checked = verified
    const wants: Want[] = []
    const { segments } = patch
    for (let i = 0; i < segments.length; ) {
      const together: Promise<number>[] = []
      for (; i < segments.length && clean(segments[i]!, feeds[i]!, checked); i++) {
        together.push(this.#segment(segments[i]!, feeds[i]!, checked, wants))
        checked -= feeds[i]!.length
      }
      for (const outcome of await Promise.allSettled(together)) {
        if (outcome.status === 'rejected') throw outcome.reason
        accepted += outcome.value
      }
      if (i === segments.length) break
      accepted += await this.#segment(segments[i]!, feeds[i]!, checked, wants)
      checked -= feeds[i]!.length
      i++
    }
    return { accepted, wants }
  }

  /**
   * One segment whose first `verified` blocks verify (all when it is at least the feed's
   * length). Adds a `want` to `wants` when the segment's parent is a gap in a chain we hold.
   * @returns how many blocks merged
   */
  async #segment(segment: Segment, feed: Feed, verified: number, wants: Want[]): Promise<number> {
    const { source } = this.link
    const first = feed.first
    if (!first) throw new KernelError('KERNEL_PROTOCOL', 'an empty patch segment')
    let holder: Uint8Array | undefined
    if (first.genesis) {
      if (!bytesEqual(first.sig, segment.chainId)) {
        throw new KernelError('KERNEL_PROTOCOL', 'a genesis block whose id is not the chain id')
      }
    } else {
      if (bytesEqual(first.sig, segment.chainId)) {
        throw new KernelError('KERNEL_PROTOCOL', 'a chain id that is not a genesis block')
      }
      holder = await source.chainOf(first.psig)
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
    const gap = orphan ? await source.summary(segment.chainId) : undefined
    const valid = forged ? feed.slice(0, verified) : feed
    const chainKey = toHex(segment.chainId) // once per segment: the ingest and the record share it
    const accepted = await this.link.ingest(valid, segment.chainId, chainKey, segment.height)
    if (forged) throw refusal()
    this.link.countReceived(feed.length)
    this.link.learn(chainKey, feed.last!.sig, segment.height + feed.length - 1)
    if (gap) {
      // We hold the chain but not the segment's parent: ask for what lies between.
      wants.push({ type: 'want', chainId: segment.chainId, height: gap.height, headId: gap.headId })
    }
    return accepted
  }
}

/**
 * True for a genesis segment that names its own chain and whose blocks all verify (the
 * first `verified` of what is left do): it passes every check without a read, so it can
 * be ingested together with its neighbours of the same kind.
 */
function clean(segment: Segment, feed: Feed, verified: number): boolean {
  const first = feed.first
  return (
    first?.genesis === true && bytesEqual(first.sig, segment.chainId) && verified >= feed.length
  )
}
