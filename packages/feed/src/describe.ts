import type { Block } from './block.ts'
import { fromUtf8, toHex } from './bytes.ts'

/**
 * `summary`, then two lines per block: its index, author, signature, parent and size,
 * then the start of its body as text and hex (what `Feed.inspect` prints).
 */
export function describeBlocks(summary: string, blocks: readonly Block[]): string {
  const short = (b: Uint8Array | undefined) => (b ? toHex(b.subarray(0, 6)) : '-')
  const lines = [summary]
  for (const [i, block] of blocks.entries()) {
    const parent = block.genesis ? 'GENESIS' : short(block.psig)
    const head = block.body.subarray(0, 16)
    lines.push(
      `  #${i}  key ${short(block.key)}  sig ${short(block.sig)}  parent ${parent}  ${block.size} B`,
      `       ${JSON.stringify(fromUtf8(head))}  ${toHex(head)}${block.size > 16 ? '…' : ''}`,
    )
  }
  return lines.join('\n')
}
