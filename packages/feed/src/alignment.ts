import type { Block } from './block.ts'
import { bytesEqual } from './bytes.ts'
import { FeedError } from './errors.ts'

/** True when `a` and `b` have the same parent (both genesis, or equal parent sigs). */
function sameParent(a: Block, b: Block): boolean {
  if (a.genesis || b.genesis) return a.genesis && b.genesis
  return bytesEqual(a.psig, b.psig)
}

/** True when `child`'s parent signature is `parent`'s signature. */
export function isParentOf(parent: Block, child: Block): boolean {
  return !child.genesis && bytesEqual(parent.sig, child.psig)
}

/**
 * Compares chain `b` with chain `a` after aligning them by parent signature (picofeed v8
 * semantics; the algorithm behind `Feed.diff`).
 * @returns 0 when neither has blocks the other lacks; `n > 0` when `b` has `n` more
 *   blocks after `a`'s; `-n` when `a` has `n` blocks after the end of `b`
 * @throws FEED_UNRELATED when no block of `a` is or shares the parent of `b`'s first
 * @throws FEED_DIVERGED when both continue the same parent with different blocks (a fork)
 */
export function diffChains(a: readonly Block[], b: readonly Block[]): number {
  if (b === a) return 0
  if (a.length === 0) return b.length
  if (b.length === 0) return -a.length
  const head = b[0]!
  let i = 0
  let j = 0
  for (; i < a.length; i++) {
    if (sameParent(a[i]!, head)) break
    if (isParentOf(a[i]!, head)) {
      j = -1
      break
    }
  }
  if (i === a.length) throw new FeedError('FEED_UNRELATED', 'feeds share no block or parent')
  if (j === -1) {
    if (i + 1 === a.length) return b.length // other continues exactly at our head
    i++
    j++
  }
  for (; i < a.length && j < b.length; i++, j++) {
    if (!bytesEqual(a[i]!.sig, b[j]!.sig)) {
      throw new FeedError('FEED_DIVERGED', `feeds fork at block ${i}`)
    }
  }
  if (i === a.length) return b.length - j
  return i - a.length
}
