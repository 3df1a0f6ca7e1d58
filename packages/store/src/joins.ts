/**
 * Partial chains claimed after a block (the `q` keys of layout.ts). A block sent as the
 * start of a partial chain (its parent unknown) goes to a chain under the id its sender
 * claimed, which may be no genesis's. Once its parent is held, that claim is moot: the
 * claimed chain leaves (with the state it backs) and its blocks are dispatched again
 * after their parent, so they join its chain as if they had arrived in order. A claimed
 * chain is noted after the parent of its first block, also after a dead prefix of it
 * was evicted (its first block changed: {@link rejoinOp}).
 */
import { type Block, bytesEqual, toHex } from '@picostack/feed'
import type { RegistryOp } from '@picostack/repo'
import { CLAIMS_CACHE, type Core } from './core.ts'
import { heldOf } from './held.ts'
import { claimKey, concatBytes, joinsKey, TAG, tagRange } from './layout.ts'
import { dropChain, replay } from './replay.ts'

/** Bytes of one chain id in a `q` value. */
const ID_BYTES = 64

/**
 * Reads which block ids have a `p` or a `q` key into `core.claims` (at `load()`: keys
 * only, at most {@link CLAIMS_CACHE} + 1 of them; more, and every block's keys are read).
 */
export async function readClaims(core: Core): Promise<void> {
  const claims = { claimed: new Set<string>(), parents: new Set<string>() }
  let listed = 0
  for (const [tag, ids] of [
    [TAG.claim, claims.claimed],
    [TAG.joins, claims.parents],
  ] as const) {
    const range = { ...tagRange(tag), limit: CLAIMS_CACHE + 1 - listed }
    for await (const [k] of core.registry.entries(range)) ids.add(toHex(k.subarray(1)))
    listed += ids.size
  }
  core.claims = listed > CLAIMS_CACHE ? undefined : claims
}

/** True when block `blockKey` (hex) may have a `p` key (a partial chain claimed its id). */
export function mayBeClaimed(core: Core, blockKey: string): boolean {
  const { claims } = core
  return claims === undefined || (claims.claimed.size > 0 && claims.claimed.has(blockKey))
}

/** True when block `blockKey` (hex) may have a `q` key (partial chains start after it). */
export function mayBeParent(core: Core, blockKey: string): boolean {
  const { claims } = core
  return claims === undefined || (claims.parents.size > 0 && claims.parents.has(blockKey))
}

/**
 * Lists `claimed` (a `p` key) and `parent` (a `q` key), both hex, before their keys are
 * written (a write that fails leaves them listed: a read more, no harm).
 */
function noteClaim(core: Core, claimed: string, parent: string): void {
  const { claims } = core
  if (!claims) return
  claims.claimed.add(claimed)
  claims.parents.add(parent)
  if (claims.claimed.size + claims.parents.size > CLAIMS_CACHE) core.claims = undefined
}

/**
 * The ops that mark partial chain `chainId` (64 B, `chainKey` its hex) as a claim (`p`)
 * and add it to those started after block `parentId` (64 B, `parentKey` its hex; `q`);
 * `prior`: that `q` value now (read with the held records).
 */
export function claimOps(
  core: Core,
  chainId: Uint8Array,
  chainKey: string,
  parentId: Uint8Array,
  parentKey: string,
  prior: Uint8Array | undefined,
): RegistryOp[] {
  noteClaim(core, chainKey, parentKey)
  return [
    core.registry.putOp(claimKey(chainId), new Uint8Array(0)),
    core.registry.putOp(joinsKey(parentId), concatBytes(prior ?? new Uint8Array(0), chainId)),
  ]
}

/**
 * The op that adds claimed chain `chainId` (64 B) to those started after block `parentId`
 * (64 B): after its prefix up to `parentId` was evicted, its first block's parent is that
 * block, so the chain joins where it lands if it is held again ({@link joinClaims}).
 * Reads that `q` value first (a claimed chain losing a prefix is rare).
 * @throws REPO_* when the repo fails to read
 */
export async function rejoinOp(
  core: Core,
  chainId: Uint8Array,
  parentId: Uint8Array,
): Promise<RegistryOp> {
  const key = joinsKey(parentId)
  const prior = await core.registry.get(key)
  noteClaim(core, toHex(chainId), toHex(parentId))
  return core.registry.putOp(key, concatBytes(prior ?? new Uint8Array(0), chainId))
}

/**
 * After `merged` were written: each partial chain started after one of them (`known`:
 * the `q` values read before, by block id as hex; the others are read now) that is still
 * unproven and still starts after it is dropped, and its blocks are dispatched again
 * with `redispatch` (verified blocks of one chain, oldest first: they join the block's
 * chain). The block's `q` key goes.
 * @throws REPO_* when the repo fails
 */
export async function joinClaims(
  core: Core,
  merged: readonly Block[],
  known: ReadonlyMap<string, Uint8Array | undefined>,
  redispatch: (blocks: readonly Block[]) => Promise<unknown>,
): Promise<void> {
  if (core.claims?.parents.size === 0) return // no block has partial chains after it
  const keys = merged.map((block) => toHex(block.sig))
  const unread = merged.filter((_, i) => !known.has(keys[i]!) && mayBeParent(core, keys[i]!))
  const read =
    unread.length > 0 ? await core.registry.getMany(unread.map((b) => joinsKey(b.sig))) : []
  const values = new Map(unread.map((block, i) => [block, read[i]] as const))
  for (const [i, block] of merged.entries()) {
    const value = known.has(keys[i]!) ? known.get(keys[i]!) : values.get(block)
    if (!value) continue
    // Evicted again in its own aftermath (a link at the start of its chain): the chains
    // noted after it wait until it is held again.
    if (!(await heldOf(core, keys[i]!))) continue
    const chains: Block[][] = []
    for (let at = 0; at + ID_BYTES <= value.length; at += ID_BYTES) {
      const chainId = value.slice(at, at + ID_BYTES)
      const summary = await core.repo.summary(chainId)
      if (summary?.proven !== false) continue // gone, or replaced by its genesis
      const feed = await core.repo.loadFeed(summary.headId)
      const first = feed?.blocks[0]
      if (!first || first.genesis || !bytesEqual(first.psig, block.sig)) continue
      if (await dropChain(core, chainId, false)) await replay(core)
      chains.push([...feed.blocks])
    }
    await core.repo.batch([core.registry.delOp(joinsKey(block.sig))])
    core.claims?.parents.delete(keys[i]!)
    for (const blocks of chains) await redispatch(blocks)
  }
}
