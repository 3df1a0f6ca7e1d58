/**
 * Held-block records and their reference counts (the `h`, `c`, `r` and `z` keys of
 * layout.ts): how many objects and slice entries each held block backs, journaled in the
 * operation's Tx so a refused write takes them back, and each chain's held blocks in
 * order ({@link chainHeld}).
 */
import { type Block, fromHex, toHex } from '@picostack/feed'
import type { RegistryOp } from '@picostack/repo'
import type { Core } from './core.ts'
import { chainBlockKey, chainPrefix, heldKey, prefixTop, releasedKey, TAG } from './layout.ts'
import { type HeldBlock, heldFrom, heldValue, meterValue } from './records.ts'
import type { Tx } from './tx.ts'

/** Registry key of the bytes of the held blocks and the next accept seq. */
export const METER_KEY = Uint8Array.of(TAG.meter)

/** The held-block record of block `blockKey` (hex), from the cache or the disk. */
export async function heldOf(core: Core, blockKey: string): Promise<HeldBlock | undefined> {
  const cached = core.held.get(blockKey)
  if (cached !== undefined) return cached ?? undefined
  if (core.replaying) return undefined
  const id = fromHex(blockKey)
  const value = await core.registry.get(heldKey(id))
  const held = value ? heldFrom(id, blockKey, value) : undefined
  core.held.set(blockKey, held ?? null)
  return held
}

/**
 * The held-block records of `blockKeys` (hex) when every one is cached (the group's read
 * put them there), else `undefined`: then {@link heldMany} reads the others.
 */
export function heldCached(core: Core, blockKeys: string[]): (HeldBlock | undefined)[] | undefined {
  if (core.replaying) return undefined
  const out: (HeldBlock | undefined)[] = new Array(blockKeys.length)
  for (let i = 0; i < blockKeys.length; i++) {
    const cached = core.held.get(blockKeys[i]!)
    if (cached === undefined) return undefined
    out[i] = cached ?? undefined
  }
  return out
}

/**
 * {@link heldOf} for many blocks, in one read for those not cached; `also` (registry keys)
 * are read in the same read, their values returned after the records. `ids`: the block
 * ids (64 B) of `blockKeys`, when the caller has them; `writing`: blocks about to be
 * written, whose write's own lookups the repo reads ahead in the same read
 * (`registry.getMany`'s `writing`).
 */
export async function heldMany(
  core: Core,
  blockKeys: string[],
  also: Uint8Array[] = [],
  ids?: Uint8Array[],
  writing?: readonly Block[],
): Promise<{ held: (HeldBlock | undefined)[]; also: (Uint8Array | undefined)[] }> {
  const out: (HeldBlock | undefined)[] = new Array(blockKeys.length)
  const missing: number[] = []
  blockKeys.forEach((k, i) => {
    const cached = core.held.get(k)
    if (cached === undefined && !core.replaying) missing.push(i)
    else out[i] = cached ?? undefined
  })
  if (missing.length === 0 && also.length === 0) return { held: out, also: [] }
  const missingIds = missing.map((i) => ids?.[i] ?? fromHex(blockKeys[i]!))
  const keys = [...missingIds.map(heldKey), ...also]
  const values = await core.registry.getMany(keys, writing && { writing })
  missing.forEach((i, n) => {
    const value = values[n]
    const held = value ? heldFrom(missingIds[n]!, blockKeys[i]!, value) : undefined
    core.held.set(blockKeys[i]!, held ?? null)
    out[i] = held
  })
  return { held: out, also: values.slice(missingIds.length) }
}

/**
 * Writes `held`'s record as it is now (with the ops of the block being applied), unless
 * it is that block's own: {@link hold} writes that one once, after the block is applied.
 */
export function heldChanged(core: Core, held: HeldBlock, tx: Tx): void {
  if (tx.applying === held) return
  tx.ops.push(core.registry.putOp(heldKey(held.id), heldValue(held)))
}

/** The op that records the bytes held now and the next accept seq. */
export function bytesOp(core: Core): RegistryOp {
  return core.registry.putOp(METER_KEY, meterValue(core.heldBytes, core.nextSeq))
}

/**
 * Records a block as held (and its bytes), with the ops of its write: its held-block record
 * (whose seq is the replay order) and, unless it is a genesis (always its chain's oldest:
 * its place is implied), its place in its chain. The caller writes the bytes held
 * ({@link bytesOp}) with the block.
 */
export function hold(core: Core, held: HeldBlock, block: Block, tx: Tx): void {
  core.heldBytes += block.blockSize
  tx.journal.push(() => {
    core.heldBytes -= block.blockSize
  })
  tx.applying = undefined
  if (!held.genesis) {
    tx.ops.push(core.registry.putOp(chainBlockKey(held.chainId, held.seq), held.id))
  }
  tx.ops.push(core.registry.putOp(heldKey(held.id), heldValue(held)))
}

/** The ops that forget held block `held` (it leaves the repo in the same batch). */
export function unholdOps(core: Core, held: HeldBlock): RegistryOp[] {
  const unhold = core.registry.delOp(heldKey(held.id))
  if (held.genesis) return [unhold]
  return [unhold, core.registry.delOp(chainBlockKey(held.chainId, held.seq))]
}

/**
 * The held blocks of chain `chainId` (64 B), oldest first (the repo's height order): its
 * genesis when held (it has no `c` key: the chain id is its id, and it is always the
 * chain's oldest block), then the blocks its `c` keys name, in accept order (a range
 * read, which stops where the caller stops). `genesis` false: the caller knows the
 * genesis is not held (the repo's oldest block of the chain is another), so it is not
 * looked up.
 */
export async function* chainHeld(
  core: Core,
  chainId: Uint8Array,
  genesis = true,
): AsyncGenerator<HeldBlock> {
  const first = genesis ? await heldOf(core, toHex(chainId)) : undefined
  if (first?.genesis) yield first
  const prefix = chainPrefix(chainId)
  for await (const [, value] of core.registry.entries({ gte: prefix, lt: prefixTop(prefix) })) {
    const held = await heldOf(core, toHex(value))
    if (held) yield held
  }
}

/**
 * `held` backs one more object (`object`: `[collection, id]`) or slice entry (no
 * `object`); journaled.
 */
export function addRef(core: Core, held: HeldBlock, tx: Tx, object?: [string, string]): void {
  held.refs++
  if (object) held.objects.push(object)
  tx.journal.push(() => {
    held.refs--
    if (object) held.objects.pop()
  })
  heldChanged(core, held, tx)
}

/**
 * `held` backs one object (`object`) or slice entry less; when it backs nothing any more,
 * its chain's dead prefix is evicted after this operation. Journaled.
 */
export function dropRef(core: Core, held: HeldBlock, tx: Tx, object?: [string, string]): void {
  const at = object ? held.objects.findIndex(([n, i]) => n === object[0] && i === object[1]) : -1
  if (at >= 0) held.objects.splice(at, 1)
  held.refs--
  tx.journal.push(() => {
    held.refs++
    if (at >= 0) held.objects.splice(at, 0, object!)
  })
  heldChanged(core, held, tx)
  if (held.refs === 0) release(core, held, tx)
}

/** `held` backs nothing any more: its chain's dead prefix is evicted after this operation. */
export function release(core: Core, held: HeldBlock, tx: Tx): void {
  if (!tx.released.has(held.chain)) {
    tx.released.set(held.chain, held.chainId)
    tx.ops.push(core.registry.putOp(releasedKey(held.chainId), new Uint8Array(0)))
  }
}

/** Bytes of the held blocks `blocks` (from their records; read when a record lacks it). */
export async function blockBytes(core: Core, blocks: HeldBlock[]): Promise<number> {
  let bytes = 0
  for (const held of blocks) {
    bytes += held.size || ((await core.repo.readBlock(held.id))?.blockSize ?? 0)
  }
  return bytes
}
