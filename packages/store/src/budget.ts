/**
 * The storage budget (`maxRepoBytes`): over it, whole chains and the state they back are
 * dropped, lowest rank first, down to 90% of it. A full disk (`QuotaExceededError`)
 * lowers the budget to what is held.
 */
import { toHex } from '@picostack/feed'
import type { ChainSummary } from '@picostack/repo'
import type { Core } from './core.ts'
import { heldOf } from './held.ts'
import { TAG, tagRange } from './layout.ts'
import { objectOf, tombstoneOf } from './objects.ts'
import { timerFrom } from './records.ts'
import { dropChain, replay } from './replay.ts'

/** Share of `maxRepoBytes` the budget evicts down to. */
const BUDGET_LOW_WATER = 0.9

/**
 * Drops whole chains, lowest rank first, until the held blocks fit in 90% of
 * `maxRepoBytes` (so the next writes do not each pay for a ranking).
 */
export async function enforceBudget(core: Core): Promise<void> {
  let replayNeeded = false
  const target = core.maxRepoBytes * BUDGET_LOW_WATER
  for (const chainId of await chainsByRank(core)) {
    if (core.heldBytes <= target) break
    if (await dropChain(core, chainId)) replayNeeded = true
  }
  if (replayNeeded) await replay(core)
}

/** The disk refused a write for lack of room: the budget becomes what is held now. */
export function lowerBudget(core: Core): void {
  core.maxRepoBytes = Math.min(core.maxRepoBytes, core.heldBytes)
}

/** Every held chain's id, lowest rank first. */
async function chainsByRank(core: Core): Promise<Uint8Array[]> {
  const chains = await core.repo.listFeeds()
  const ranks = new Map<string, number>()
  if (core.rank) {
    for (const chain of chains) ranks.set(toHex(chain.chainId), await core.rank(chain))
  } else {
    // Soonest expiry first: the timers in time order name the objects and slice entries.
    const unranked: Record<string, true> = Object.create(null)
    for (const chain of chains) unranked[toHex(chain.chainId)] = true
    const { slices, tables } = core.consumers
    for await (const [k, value] of core.registry.entries(tagRange(TAG.timer))) {
      const { kind, name, id, at } = timerFrom(k, value)
      const blockKeys: string[] = []
      if (kind === 'o') {
        const table = tables.get(name)
        const entry = table && (await objectOf(core, table, id))
        blockKeys.push(...(entry?.blocks ?? []))
      } else if (kind === 'd') {
        const table = tables.get(name)
        const tombstone = table && (await tombstoneOf(core, table, id))
        if (tombstone) blockKeys.push(tombstone.blockKey)
      } else {
        const entry = slices.get(name)?.entries.get(Number(id))
        if (entry) blockKeys.push(entry.blockKey)
      }
      for (const blockKey of blockKeys) {
        const held = await heldOf(core, blockKey)
        if (held && held.chain in unranked) {
          delete unranked[held.chain]
          ranks.set(held.chain, at)
        }
      }
      if (ranks.size === chains.length) break
    }
  }
  const rankOf = (chain: ChainSummary) =>
    ranks.get(toHex(chain.chainId)) ?? Number.POSITIVE_INFINITY
  return chains.sort((a, b) => rankOf(a) - rankOf(b)).map((chain) => chain.chainId)
}

/** True when `err`, or an error in its `cause` chain, is a `QuotaExceededError` (a full disk). */
export function isQuotaExceeded(err: unknown): boolean {
  for (let at = err, depth = 0; at && depth < 8; depth++) {
    if ((at as { name?: unknown }).name === 'QuotaExceededError') return true
    at = (at as { cause?: unknown }).cause
  }
  return false
}
