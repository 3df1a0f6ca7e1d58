/**
 * What sync protocol version 1 sent before a single block could move: its `summary`, one
 * entry per proven chain held, computed here from a repo so the figure exists after the
 * version 1 code is gone. The layout is docs/protocol.md as of commit e8b4904 (version 1):
 *
 * ```
 * summary = [2, [[chainId(64 B), author(32 B), headId(64 B), height], ...], last(bool)]
 * ```
 *
 * pages of at most 256 entries (`maxSummaryChains`), the last page `last = true`, an empty
 * repo one empty last page; each page is one net frame (`varint length | dstPort u16 |
 * srcPort u16 | flags u8 | payload`, @picostack/net README). Encoded with cborg as
 * version 1 did (definite lengths). Each side of a connection sent its own summary.
 */
import type { Repo } from '@picostack/kernel'
import { encode } from 'cborg'

/** `maxSummaryChains` of version 1. */
const PAGE_ENTRIES = 256
const FRAME_HEADER_BYTES = 5

function varintBytes(n: number): number {
  let bytes = 1
  while (n >= 0x80) {
    n = Math.floor(n / 0x80)
    bytes++
  }
  return bytes
}

/** Bytes one side's version 1 summary of `repo` took on the wire, frames included. */
export async function v1SummaryBytes(repo: Repo): Promise<number> {
  const chains = (await repo.listFeeds()).filter((chain) => chain.proven)
  let bytes = 0
  let i = 0
  do {
    const page = chains.slice(i, i + PAGE_ENTRIES)
    i += PAGE_ENTRIES
    const payload = encode([
      2,
      page.map((c) => [c.chainId, c.author, c.headId, c.height]),
      i >= chains.length,
    ])
    const frame = FRAME_HEADER_BYTES + payload.length
    bytes += varintBytes(frame) + frame
  } while (i < chains.length)
  return bytes
}
