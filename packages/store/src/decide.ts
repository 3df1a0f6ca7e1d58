/**
 * Slice and collection decisions: what a block does to each consumer (filter, compute,
 * expiry), applied in memory through changes.ts, then the signals it raised delivered to
 * the traps. A slice has one decision path ({@link judgeSlice}), used both when a block
 * arrives and when the slice is recomputed from its remaining entries.
 */
import type { Block } from '@picostack/feed'
import {
  addEntry,
  forgetEntry,
  forgetObject,
  type ObjectWrite,
  setObject,
  setSlice,
  setTombstone,
} from './changes.ts'
import { type ComputeContext, Deletion, Postponement, Rejection, type Signal } from './context.ts'
import type { Core } from './core.ts'
import { heldOf } from './held.ts'
import { cloneValue, normalizeId } from './memory.ts'
import { objectOf, objectOrTombstone, tombstoneOf } from './objects.ts'
import type { HeldBlock } from './records.ts'
import type { SliceState, Table } from './tables.ts'
import type { Tx } from './tx.ts'
import {
  type BaseContext,
  type BlockRun,
  baseContext,
  checkExpiry,
  contextFor,
  DELETION,
  decodeOnce,
  decodeWith,
  EXPIRED,
  hookFailed,
  IGNORE,
  isThenable,
  type JudgedContext,
  outcomeVerdict,
  reasonOf,
  type Verdict,
} from './verdict.ts'

/** What a slice makes of a block: a verdict, or its next value and the entry's expiry. */
type SliceJudgement = Verdict | { kind: 'value'; next: unknown; expiresAt: number }

/**
 * The one decision path of a slice: its filter, then (with `now`) its expiry, then its
 * reducer. Without `now` (a recompute) the entry's stored expiry stands.
 */
async function judgeSlice(
  core: Core,
  slice: SliceState,
  state: unknown,
  base: BaseContext,
  signals: Signal[],
  now?: number,
): Promise<SliceJudgement> {
  const { spec } = slice
  const ctx = contextFor(core, state, base, spec.name, undefined, signals)
  let hook = 'filter'
  try {
    if (spec.filter) {
      let verdict = spec.filter(ctx)
      if (isThenable(verdict)) verdict = await verdict
      const outcome =
        verdict instanceof Rejection || verdict instanceof Postponement ? verdict : ctx.outcome
      if (outcome) return outcomeVerdict(outcome)
      if (verdict === true) return IGNORE
      if (verdict) return { kind: 'stop', code: 'STORE_REJECTED', reason: reasonOf(verdict) }
    }
    hook = 'expiresAt'
    let expiresAt = Number.POSITIVE_INFINITY
    if (now !== undefined) {
      if (spec.expiresAt) expiresAt = checkExpiry(spec.expiresAt(ctx), spec.name)
      if (expiresAt <= now) return EXPIRED
    }
    hook = 'reducer'
    let next: unknown = spec.reducer(ctx)
    if (isThenable(next)) next = await next
    if (ctx.outcome) return outcomeVerdict(ctx.outcome)
    return { kind: 'value', next, expiresAt }
  } catch (cause) {
    return hookFailed(spec.name, hook, cause)
  }
}

async function decideSlice(core: Core, slice: SliceState, run: BlockRun): Promise<Verdict> {
  const own: Signal[] = []
  const judged = await judgeSlice(core, slice, slice.value, run.base, own, run.now)
  if (judged.kind !== 'value') return judged
  return {
    kind: 'apply',
    commit: () => {
      run.signals.push(...own)
      setSlice(core, slice, judged.next, run.tx)
      addEntry(core, slice, run.held, judged.expiresAt, null, run.tx)
    },
  }
}

async function decideObject(core: Core, table: Table, run: BlockRun): Promise<Verdict> {
  const { memory } = table
  const own: Signal[] = []
  let hook = 'idOf'
  try {
    // One context for idOf and then compute (with the object's id and value set).
    const base = contextFor<unknown>(core, undefined, run.base, memory.name, undefined, own)
    let rawId = memory.idOf(base as JudgedContext<undefined>)
    if (isThenable(rawId)) rawId = await rawId
    const id = normalizeId(rawId)
    // An object and its tombstone never coexist: only an absent object has one.
    const { object: current, tombstone } = await objectOrTombstone(core, table, id)
    if (tombstone) {
      // A deleted object's late or re-sent block backs nothing (a link, or refused
      // STORE_EXPIRED at the end of its patch). In a replay the delete block comes
      // again: it backs its tombstone again.
      if (tombstone.blockKey !== run.held.key) return EXPIRED
      return {
        kind: 'apply',
        commit: () => setTombstone(core, table, id, tombstone.expiresAt, run.held, run.tx),
      }
    }
    const value = current ? current.value : cloneValue(memory.initialValue)
    const indexKeys: string[] = []
    const ctx = Object.assign(base, {
      state: value,
      id,
      index: (indexKey: string | Uint8Array) => {
        indexKeys.push(normalizeId(indexKey))
      },
      delete: () => DELETION,
    }) as ComputeContext & { outcome?: Rejection | Postponement }
    hook = 'compute'
    let next = memory.compute(value, ctx)
    if (isThenable(next)) next = await next
    const outcome = next instanceof Rejection || next instanceof Postponement ? next : ctx.outcome
    if (outcome) return outcomeVerdict(outcome)
    if (next === undefined) return IGNORE
    hook = 'expiresAt'
    if (next instanceof Deletion) {
      // Nothing held to delete: the rule could not be checked against the object.
      if (!current) return EXPIRED
      // Until the object's natural expiry, or the delete block's own if later: no held
      // block of the object can then bring it back.
      const deleteExpiry = checkExpiry(memory.expiresAt(value, ctx), memory.name)
      const until = Math.max(current.expiresAt, deleteExpiry)
      if (until <= run.now) return EXPIRED
      return {
        kind: 'apply',
        commit: async () => {
          run.signals.push(...own)
          await forgetObject(core, table, id, run.tx)
          setTombstone(core, table, id, until, run.held, run.tx)
        },
      }
    }
    const expiresAt = checkExpiry(memory.expiresAt(next, ctx), memory.name)
    hook = 'orders'
    const orderKeys = table.orderKeysOf(next, id)
    const write: ObjectWrite = { id, value: next, expiresAt, orderKeys, indexKeys }
    return {
      kind: 'apply',
      commit: () => {
        run.signals.push(...own)
        setObject(core, table, write, run.held, run.tx)
      },
    }
  } catch (cause) {
    return hookFailed(memory.name, hook, cause)
  }
}

/** Hands a signal to every trap; the signalling block backs what they change. */
async function deliver(core: Core, signal: Signal, run: BlockRun): Promise<void> {
  const { base, held, tx, now } = run
  for (const slice of core.consumers.slices.values()) {
    const { spec } = slice
    if (!spec.trap) continue
    try {
      const next = spec.trap(signal, slice.value)
      if (next === undefined) continue
      const ctx = contextFor(core, slice.value, base, spec.name, undefined, [])
      const expiresAt = spec.expiresAt
        ? checkExpiry(spec.expiresAt(ctx), spec.name)
        : Number.POSITIVE_INFINITY
      if (expiresAt <= now) continue
      setSlice(core, slice, next, tx)
      addEntry(core, slice, held, expiresAt, signal, tx)
    } catch {
      // A trap runs after its block merged; its failure changes nothing.
    }
  }
  for (const table of core.consumers.tables.values()) {
    const { memory } = table
    if (typeof memory.trap !== 'function') continue
    // The trap names the objects to change; they are read (from disk if need be) after.
    const asked: [string, (value: unknown) => unknown][] = []
    try {
      memory.trap(signal, (rawId, fn) => {
        asked.push([normalizeId(rawId), fn as (value: unknown) => unknown])
      })
    } catch {
      continue // As above: a trap cannot refuse a merged block.
    }
    for (const [id, fn] of asked) {
      try {
        const entry = await objectOf(core, table, id)
        if (!entry && (await tombstoneOf(core, table, id))) continue // no undelete by a trap
        const next = fn(entry ? entry.value : cloneValue(memory.initialValue))
        if (next === undefined) continue
        const ctx = Object.assign(contextFor(core, next, base, memory.name, id, []), {
          id,
          index: () => undefined,
          delete: () => DELETION,
        })
        const expiresAt = checkExpiry(memory.expiresAt(next, ctx), memory.name)
        const orderKeys = table.orderKeysOf(next, id)
        setObject(core, table, { id, value: next, expiresAt, orderKeys, indexKeys: [] }, held, tx)
      } catch {
        // As above.
      }
    }
  }
}

/** One block to apply: itself, its parent (if held), its record, the operation, the time. */
export interface BlockStep {
  block: Block
  parentBlock: Block | undefined
  held: HeldBlock
  tx: Tx
  now: number
}

/** Decodes the step's block and offers it to its consumers; applies the verdicts in memory. */
export async function applyBlock(core: Core, step: BlockStep): Promise<Verdict> {
  const { block, held, tx, now } = step
  let body: ReturnType<typeof decodeWith>
  try {
    body = decodeOnce(core, block)
  } catch (cause) {
    return { kind: 'stop', code: 'STORE_DECODE', reason: reasonOf(cause) }
  }
  const base = baseContext(block, step.parentBlock, body, held.chain, now)
  const run: BlockRun = { base, held, tx, now, signals: [] }
  const commits: (() => void | Promise<void>)[] = []
  let expired = false
  const consider = (verdict: Verdict): Verdict | undefined => {
    if (verdict.kind === 'stop') return verdict
    if (verdict.kind === 'apply') commits.push(verdict.commit)
    else if (verdict.kind === 'expired') expired = true
    return undefined
  }
  for (const slice of core.consumers.slices.values()) {
    const stop = consider(await decideSlice(core, slice, run))
    if (stop) return stop
  }
  const table = core.consumers.tables.get(body.type)
  if (table) {
    const stop = consider(await decideObject(core, table, run))
    if (stop) return stop
  }
  if (commits.length === 0) {
    if (expired) return EXPIRED
    return {
      kind: 'stop',
      code: 'STORE_UNHANDLED',
      reason: `no slice or collection accepted a block of type "${body.type}"`,
    }
  }
  for (const commit of commits) await commit()
  for (const signal of run.signals) await deliver(core, signal, run)
  return { kind: 'apply', commit: () => undefined }
}

/**
 * Rebuilds a slice from its live entries, in the order they were applied, through the
 * slice's one decision path; an entry its rules now refuse (or whose block is gone) goes.
 */
export async function recompute(core: Core, slice: SliceState, tx: Tx): Promise<void> {
  const { spec } = slice
  let value: unknown = cloneValue(spec.initialValue)
  for (const entry of [...slice.entries.values()]) {
    let keep = false
    if (entry.signal) {
      try {
        const next = spec.trap?.(entry.signal, value)
        if (next !== undefined) value = next
        keep = true
      } catch {
        keep = false
      }
    } else {
      const block = await core.repo.readBlock(entry.blockId)
      if (block) {
        try {
          const body = decodeWith(core, block)
          const parentBlock = block.genesis ? undefined : await core.repo.readBlock(block.psig)
          const chain = (await heldOf(core, entry.blockKey))?.chain ?? ''
          const base = baseContext(block, parentBlock, body, chain, core.clock.now())
          const judged = await judgeSlice(core, slice, value, base, [])
          if (judged.kind === 'value') {
            value = judged.next
            keep = true
          }
        } catch {
          keep = false
        }
      }
    }
    if (!keep) await forgetEntry(core, slice, entry, tx)
  }
  setSlice(core, slice, value, tx)
}
