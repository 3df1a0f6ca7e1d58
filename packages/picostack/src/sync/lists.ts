/**
 * A range listed and its answer (docs/protocol.md, "Reconciliation" and "Why tags"): our
 * list of a small range (short chain parts, wide when they collide), the lacks we answer a
 * peer's list with (the check of the chains we took its items for), and what we do with the
 * lacks the peer answers ours with.
 */
import { bytesEqual, toHex } from '@picostack/feed'
import type { ChainSummary } from '@picostack/repo'
import { KernelError } from '../errors.ts'
import { headAtHeight, recentHead } from './heads.ts'
import type { PassTags } from './pass-tags.ts'
import {
  distinctChainParts,
  type ItemsEntry,
  type LacksEntry,
  MAX_PREFIX_NIBBLES,
} from './ranges.ts'
import type { ReconcileLink } from './reconcile.ts'

/** Chains read per page when a range we hold many more of than the peer listed is searched. */
const SCAN_PAGE = 1024

/** What the list helpers use of a session's reconciliation. */
export interface ListContext {
  /** The session's side of the reconciliation. */
  readonly link: ReconcileLink
  /** The salted values of the current pass. */
  readonly tags: PassTags
  /** Counts work the peer caused (chains read for it). */
  charge(units: number): Promise<void>
}

/**
 * Our list of `chains` (all we hold in `prefix`), with short chain parts unless two of
 * them collide, then wide; `undefined` when wide ones collide too (the range is split
 * instead; at a whole chain id, where no two chains differ, the wide list goes).
 */
export function listOf(
  tags: PassTags,
  prefix: Uint8Array,
  chains: readonly ChainSummary[],
): ItemsEntry | undefined {
  for (const part of [tags.parts.short, tags.parts.wide]) {
    const list = tags.listOf(chains, part)
    if (distinctChainParts(list.tags, list.genesis, part, tags.parts.head)) {
      return { kind: 'items', prefix, ...list }
    }
  }
  if (prefix.length < MAX_PREFIX_NIBBLES) return undefined
  return { kind: 'items', prefix, ...tags.listOf(chains, tags.parts.wide) }
}

/**
 * Our list of `prefix` again, wide (the peer's check showed a collision of short parts).
 * @returns the entry; `undefined` when we hold none or more than
 *   `listItems` there now, or the wide parts collide too
 */
export async function relist(
  { link, tags }: ListContext,
  prefix: Uint8Array,
): Promise<ItemsEntry | undefined> {
  const { listItems } = link.limits
  const chains = await link.source.listChains({
    prefix,
    limit: listItems + 1,
    proven: true,
  })
  if (chains.length === 0 || chains.length > listItems) return undefined
  const list = tags.listOf(chains, tags.parts.wide)
  if (!distinctChainParts(list.tags, list.genesis, list.part, tags.parts.head)) return undefined
  return { kind: 'items', prefix, ...list }
}

/**
 * The peer listed every item it holds in a range: we send what it lacks, and answer
 * which of its items we lack, our heads where they differ, and the check of the chains
 * we took its items for.
 * @returns our answer
 */
export async function answerItems(ctx: ListContext, entry: ItemsEntry): Promise<LacksEntry> {
  const { link, tags } = ctx
  const { source, limits } = link
  const { prefix } = entry
  const n = tags.count(entry)
  const lack = new Uint8Array(Math.ceil(n / 8))
  const heads: LacksEntry['heads'] = []
  const page = await source.listChains({ prefix, limit: n + limits.listItems, proven: true })
  const whole = page.length < n + limits.listItems // we hold no more in the range than these
  const listed = new Set<string>()
  for (let i = 0; i < n; i++) listed.add(tags.chainKey(entry, i))
  const mine = whole
    ? tags.byChainPart(page, entry.part)
    : await findListed(ctx, prefix, entry.part, listed)
  const matched = new Set<string>() // 8-byte id heads (hex) of our chains the peer listed
  const held: Uint8Array[] = [] // their chain ids, in list order (the check)
  for (let i = 0; i < n; i++) {
    const chain = mine.get(tags.chainKey(entry, i))
    if (!chain) {
      lack[i >> 3]! |= 0x80 >> (i & 7)
      continue
    }
    matched.add(toHex(chain.chainId.subarray(0, 8)))
    held.push(chain.chainId)
    const atGenesis = bytesEqual(chain.headId, chain.chainId)
    const theirs = tags.headAt(entry, i)
    if (!theirs) {
      // The peer holds the genesis alone: we send what follows, if anything does.
      if (!atGenesis) link.learn({ chainId: chain.chainId, headId: chain.chainId, height: 1 })
      continue
    }
    const head = tags.headParts([chain.headId])
    if (bytesEqual(head, theirs)) continue
    const behind = atGenesis ? undefined : await recentHead(link.source, tags, chain, theirs)
    if (behind)
      link.learn(behind) // the peer is behind: we send what follows its head
    else heads.push({ index: i, height: chain.height, head })
  }
  // What we hold in the range that the peer did not list, it lacks.
  if (whole) {
    for (const chain of page) {
      if (!matched.has(toHex(chain.chainId.subarray(0, 8)))) link.lacks(chain.chainId)
    }
  } else {
    link.pushRange(prefix, matched)
  }
  return {
    kind: 'lacks',
    prefix,
    lack: lack.some((byte) => byte !== 0) ? lack : new Uint8Array(0),
    heads,
    check: tags.check(held),
  }
}

/**
 * Our chains in `prefix` whose chain parts (of `part` bytes) are among `listed` (hex
 * keys), found by paging through the range (we hold many more there than the peer
 * listed): each chain read is work the peer caused.
 */
async function findListed(
  { link, tags, charge }: ListContext,
  prefix: Uint8Array,
  part: number,
  listed: ReadonlySet<string>,
): Promise<Map<string, ChainSummary>> {
  const found = new Map<string, ChainSummary>()
  let after: Uint8Array | undefined
  for (;;) {
    const page = await link.source.listChains({
      prefix,
      limit: SCAN_PAGE,
      proven: true,
      ...(after ? { after } : {}),
    })
    await charge(page.length)
    for (const [key, chain] of tags.byChainPart(page, part)) {
      if (listed.has(key) && !found.has(key)) found.set(key, chain)
    }
    if (page.length < SCAN_PAGE || found.size === listed.size) return found
    after = page[page.length - 1]!.chainId
  }
}

/**
 * The peer's answer to items we listed: push what it lacks; when its check is ours (no
 * listed chain part matched another chain of the peer's), for each of its heads, the
 * block of ours at its height when its head part matches (the peer is behind: we send
 * what follows), else a `want` from our head (it is ahead, or forked).
 * @returns true when the check differs (a collision: the heads are not read)
 * @throws KERNEL_PROTOCOL for a bitmap that does not fit the list, or a head of a tag
 *   not listed
 */
export async function onLacks(
  { link, tags }: ListContext,
  entry: LacksEntry,
  listed: ItemsEntry,
): Promise<boolean> {
  const { source, limits } = link
  const n = tags.count(listed)
  if (entry.lack.length !== 0 && entry.lack.length !== Math.ceil(n / 8)) {
    throw new KernelError(
      'KERNEL_PROTOCOL',
      `a lack bitmap for ${n} items must be ${Math.ceil(n / 8)} bytes (or 0)`,
    )
  }
  for (const head of entry.heads) {
    if (head.index >= n || head.head.length !== tags.parts.head) {
      throw new KernelError('KERNEL_PROTOCOL', 'a head of a chain that was not listed')
    }
  }
  // The listed chains, found again by their chain parts (the range may have changed since).
  const page = await source.listChains({
    prefix: listed.prefix,
    limit: n + limits.listItems,
    proven: true,
  })
  const mine = tags.byChainPart(page, listed.part)
  const held: Uint8Array[] = [] // the listed chains the peer holds, in list order
  for (let i = 0; i < n; i++) {
    const chain = mine.get(tags.chainKey(listed, i))
    if (((entry.lack[i >> 3] ?? 0) & (0x80 >> (i & 7))) === 0) {
      if (chain) held.push(chain.chainId)
    } else if (chain) link.lacks(chain.chainId)
  }
  if (!bytesEqual(tags.check(held), entry.check)) return true
  for (const head of entry.heads) {
    const chain = mine.get(tags.chainKey(listed, head.index))
    if (!chain) continue
    const theirs = await headAtHeight(link.source, tags, chain, head)
    if (theirs) link.learn(theirs)
    else link.want(chain) // the peer is ahead (or forked, or far behind our oldest block)
  }
  return false
}
