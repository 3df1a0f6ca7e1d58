/**
 * What one block is to one consumer (a verdict), and the context every hook gets: the
 * shared vocabulary of decide.ts and the dispatch pipeline.
 */

import { type Block, bytesEqual, toHex } from '@picostack/feed'
import type { DecodedBody } from './body-codec.ts'
import { type BlockContext, Deletion, Postponement, Rejection, type Signal } from './context.ts'
import type { Core } from './core.ts'
import { StoreError, type StoreErrorCode } from './errors.ts'
import { normalizeId } from './memory.ts'
import type { HeldBlock } from './records.ts'
import type { Tx } from './tx.ts'

/** A block's outcome from one consumer. */
export type Verdict =
  | { kind: 'ignore' }
  | { kind: 'expired' }
  | { kind: 'stop'; code: StoreErrorCode; reason: string; postpone?: Postponement }
  | { kind: 'apply'; commit: () => void | Promise<void> }

export const IGNORE: Verdict = { kind: 'ignore' }
export const EXPIRED: Verdict = { kind: 'expired' }
/** What `ctx.delete()` returns (it carries nothing). */
export const DELETION = new Deletion()

/** The consumer-independent part of a block's context. */
export type BaseContext = Pick<
  BlockContext,
  'block' | 'parentBlock' | 'genesis' | 'type' | 'payload' | 'date' | 'now' | 'AUTHOR' | 'CHAIN'
>

/** A context with the reject/postpone call its hook made, if any. */
export type JudgedContext<S> = BlockContext<S> & { outcome?: Rejection | Postponement }

/** One block being applied: what every decision about it needs. */
export interface BlockRun {
  base: BaseContext
  held: HeldBlock
  tx: Tx
  now: number
  /** Signals raised by the block so far (delivered after it merged). */
  signals: Signal[]
}

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}

export function checkExpiry(at: unknown, name: string): number {
  if (typeof at !== 'number' || Number.isNaN(at)) {
    throw new StoreError('STORE_REDUCER', `${name}.expiresAt must return a number, got ${at}`)
  }
  return at
}

export function reasonOf(value: unknown): string {
  if (value instanceof Error) return value.message || value.name
  return typeof value === 'string' ? value : String(value)
}

export function hookFailed(name: string, hook: string, cause: unknown): Verdict {
  return {
    kind: 'stop',
    code: 'STORE_REDUCER',
    reason: `${name}.${hook} threw: ${reasonOf(cause)}`,
  }
}

export function outcomeVerdict(outcome: Rejection | Postponement): Verdict {
  if (outcome instanceof Rejection) {
    return { kind: 'stop', code: 'STORE_REJECTED', reason: outcome.reason }
  }
  return { kind: 'stop', code: 'STORE_POSTPONED', reason: outcome.reason, postpone: outcome }
}

/**
 * Decodes a block's body with the store's codec.
 * @throws STORE_DECODE (or the codec's error) when it is not `{ type, date, payload }`
 */
export function decodeWith(core: Core, block: Block): DecodedBody {
  const body = core.codec.decode(block.body)
  if (typeof body?.type !== 'string' || typeof body.date !== 'number') {
    throw new StoreError('STORE_DECODE', 'the codec returned no { type, date }')
  }
  return body
}

/**
 * {@link decodeWith}, kept (in `core.decoded`) for the block's {@link decodeOnce}.
 * @throws as {@link decodeWith}
 */
export function decodeAhead(core: Core, block: Block): DecodedBody {
  const body = decodeWith(core, block)
  core.decoded.set(block, body)
  return body
}

/**
 * The body {@link decodeAhead} decoded (taken: a later call decodes anew), or
 * {@link decodeWith}'s.
 * @throws as {@link decodeWith}
 */
export function decodeOnce(core: Core, block: Block): DecodedBody {
  const body = core.decoded.get(block)
  if (body === undefined) return decodeWith(core, block)
  core.decoded.delete(block)
  return body
}

/** Authors seen lately, by the first 4 bytes of their key (a block's author is likely one). */
const authors = new Map<number, { bytes: Uint8Array; hex: string }>()
/** Most authors {@link authors} keeps; then it starts again. */
const AUTHORS_KEPT = 256

/** `key` (32 B) as hex, remembered for the next blocks of the same author. */
function authorHex(key: Uint8Array): string {
  const prefix = ((key[0]! << 24) | (key[1]! << 16) | (key[2]! << 8) | key[3]!) >>> 0
  const known = authors.get(prefix)
  if (known && bytesEqual(known.bytes, key)) return known.hex
  if (authors.size >= AUTHORS_KEPT) authors.clear()
  const author = { bytes: key.slice(), hex: toHex(key) }
  authors.set(prefix, author)
  return author.hex
}

/** The consumer-independent context of `block` (of chain `chain`, hex), decided at `now` (ms). */
export function baseContext(
  block: Block,
  parentBlock: Block | undefined,
  body: DecodedBody,
  chain: string,
  now: number,
): BaseContext {
  return {
    block,
    parentBlock,
    genesis: block.genesis,
    type: body.type,
    payload: body.payload,
    date: body.date,
    now,
    AUTHOR: block.key ? authorHex(block.key) : '',
    CHAIN: chain,
  }
}

/** A context for one consumer (`from`, object `id`); `outcome` records reject/postpone calls. */
export function contextFor<S>(
  core: Core,
  state: S,
  base: BaseContext,
  from: string,
  id: string | undefined,
  signals: Signal[],
): JudgedContext<S> {
  // Field by field, not `...base`: a spread followed by more properties takes V8's slow
  // path (~5 us a context, two contexts a block for a slice and a collection).
  const ctx: JudgedContext<S> = {
    block: base.block,
    parentBlock: base.parentBlock,
    genesis: base.genesis,
    type: base.type,
    payload: base.payload,
    date: base.date,
    now: base.now,
    AUTHOR: base.AUTHOR,
    CHAIN: base.CHAIN,
    state,
    root: core.consumers.root,
    reject: (reason) => {
      const rejection = new Rejection(reason === undefined ? 'rejected' : reasonOf(reason))
      ctx.outcome = rejection
      return rejection
    },
    postpone: (ms, reason = 'postponed', retries = 3) => {
      const postponement = new Postponement(Math.max(0, Number(ms) || 0), reason, retries)
      ctx.outcome = postponement
      return postponement
    },
    signal: (type, payload) => {
      signals.push({
        type,
        payload,
        from,
        // A collection's context gets its object id after idOf.
        id: (ctx as { id?: string }).id ?? id,
        AUTHOR: base.AUTHOR,
        CHAIN: base.CHAIN,
        date: base.date,
      })
    },
    lookup: (indexKey, collection = from) =>
      core.consumers.tables.get(collection)?.index.get(normalizeId(indexKey))?.blockId,
  }
  return ctx
}
