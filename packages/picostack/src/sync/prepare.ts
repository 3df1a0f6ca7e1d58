import { type Block, Feed } from '@picostack/feed'
import { verifyBlocks } from '@picostack/repo'
import { KernelError } from '../errors.ts'
import type { SyncLimits } from './limits.ts'
import { decodeMessage, type Message } from './messages.ts'

/** A received message decoded, and for a patch its feeds parsed and its signatures checked. */
export interface Prepared {
  /** The message. */
  message?: Message
  /** One feed per segment of a patch, structure and links checked. */
  feeds?: Feed[]
  /** How many of the patch's blocks (all segments in order) verify before the first forged one. */
  verified?: number
  /** Why the message is refused. */
  error?: unknown
}

const noop = () => {}

/**
 * The first step of a session's incoming messages, on arrival: decoding, and for a patch
 * its size, structure (FEED_DECODE, FEED_PARENT, FEED_TOO_LARGE) and signatures, checked in
 * the background one patch at a time while the messages before it are handled. Refusals
 * are carried in {@link Prepared}, so that the session answers them in arrival order.
 */
export class Preparer {
  /** Signature checks of received patches, one patch at a time. */
  #verifying: Promise<unknown> = Promise.resolve()

  /** @param isClosed - true once the session closed (no more signature checks for it) */
  constructor(
    private readonly limits: SyncLimits,
    private readonly isClosed: () => boolean,
  ) {}

  /** Decodes `msg`; a patch resolves once its signatures were checked. */
  prepare(msg: Uint8Array): Prepared | Promise<Prepared> {
    const { limits } = this
    try {
      if (msg.length > limits.maxMessageBytes) {
        throw new KernelError(
          'KERNEL_TOO_LARGE',
          `message of ${msg.length} bytes, limit ${limits.maxMessageBytes}`,
        )
      }
      const message = decodeMessage(msg, limits)
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
      let blocks = feeds[0]!.blocks
      if (feeds.length > 1) {
        const all: Block[] = []
        for (const feed of feeds) for (const block of feed.blocks) all.push(block)
        blocks = all
      }
      // Not for a session that closed meanwhile (its inbox drops the message anyway).
      const checked = this.#verifying.then(() => (this.isClosed() ? 0 : verifyBlocks(blocks)))
      this.#verifying = checked.catch(noop)
      return checked.then(
        (verified) => ({ message, feeds, verified }),
        (error) => ({ error }),
      )
    } catch (error) {
      return { error }
    }
  }
}
