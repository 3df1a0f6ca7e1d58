import type { Block } from './block.ts'
import type { Feed } from './feed.ts'

/**
 * Called by {@link Feed.merge} with each block before it is merged. Calling `stop()` merges
 * nothing from this block on; `stop(true)` merges this block, then stops.
 */
export type MergeCallback = (block: Block, stop: (includeThis?: boolean) => void) => void

/** The leading `blocks` that `onBlock` lets through before it calls `stop`. */
export function acceptedBy(blocks: readonly Block[], onBlock: MergeCallback): Block[] {
  const accepted: Block[] = []
  for (const block of blocks) {
    let stop = false
    let include = false
    onBlock(block, (includeThis = false) => {
      stop = true
      include = includeThis
    })
    if (!stop || include) accepted.push(block)
    if (stop) break
  }
  return accepted
}
