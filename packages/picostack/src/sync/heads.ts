import { bytesEqual } from '@picostack/feed'
import type { ChainSummary } from '@picostack/repo'
import type { ChainSource } from './chain-source.ts'
import type { PassTags } from './pass-tags.ts'
import type { ChainHead, LacksEntry } from './ranges.ts'

/**
 * Newest blocks of a chain searched for the head a peer's item tag names (one read): a
 * peer that far behind gets the blocks after its head at once, without a head and a `want`
 * going back and forth.
 */
const HEAD_SEARCH_BLOCKS = 16

/**
 * The peer's head of our `chain` named by an item tag's head `part`, when it is one of our
 * newest {@link HEAD_SEARCH_BLOCKS} blocks (below our head): the peer is behind us by that
 * much.
 */
export async function recentHead(
  source: ChainSource,
  tags: PassTags,
  chain: ChainSummary,
  part: Uint8Array,
): Promise<ChainHead | undefined> {
  const feed = await source.loadFeed(chain.headId, HEAD_SEARCH_BLOCKS)
  const blocks = feed?.blocks ?? []
  const parts = tags.headParts(blocks.map((block) => block.sig))
  for (let i = blocks.length - 2; i >= 0; i--) {
    if (!bytesEqual(parts.subarray(i * tags.parts.head, (i + 1) * tags.parts.head), part)) continue
    const height = chain.height - (blocks.length - 1 - i)
    return { chainId: chain.chainId, headId: blocks[i]!.sig, height }
  }
  return undefined
}

/**
 * The full head a lacks head names: our block of `chain` at its height, when we hold it
 * below our head and its head part matches (the peer is behind); `undefined` otherwise
 * (the peer is ahead, forked, or behind our oldest block).
 */
export async function headAtHeight(
  source: ChainSource,
  tags: PassTags,
  chain: ChainSummary,
  head: LacksEntry['heads'][number],
): Promise<ChainHead | undefined> {
  const behind = chain.height - head.height
  if (behind <= 0 || behind >= chain.length) return undefined
  const feed = await source.loadFeed(chain.headId, behind + 1)
  const block = feed?.length === behind + 1 ? feed.blocks[0] : undefined
  if (!block || !bytesEqual(tags.headParts([block.sig]), head.head)) return undefined
  return { chainId: chain.chainId, headId: block.sig, height: head.height }
}
