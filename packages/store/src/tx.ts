/**
 * The changes of one store operation: the undo journal (memory changes of blocks the repo
 * then refused are taken back), the registry ops, and what to notify and evict after.
 */
import type { RegistryOp } from '@picostack/repo'
import type { HeldBlock } from './records.ts'
import type { SliceState, Table } from './tables.ts'

/** A slice or a collection. */
export type Consumer = SliceState | Table

/** One operation's changes. */
export class Tx {
  readonly journal: (() => void)[] = []
  /** Where ops go now (the current block's ops, or the end of the operation). */
  ops: RegistryOp[] = []
  /** The block being applied: its held-block record is written once, when it is held. */
  applying?: HeldBlock
  /** Ops written with the last block of the run (or alone). */
  readonly endOps: RegistryOp[] = []
  readonly changed = new Set<Consumer>()
  /** Chains (hex, with their ids) some block of which stopped backing anything. */
  readonly released = new Map<string, Uint8Array>()
  readonly touched = new Map<string, { table: Table; id: string }>()
  readonly recompute = new Set<SliceState>()
  /** Objects changed or gone, per collection, for `onChange` observers. */
  readonly objects = new Map<Table, Set<string>>()

  objectChanged(table: Table, id: string): void {
    let ids = this.objects.get(table)
    if (!ids) this.objects.set(table, (ids = new Set()))
    ids.add(id)
  }

  undoTo(mark: number): void {
    while (this.journal.length > mark) this.journal.pop()!()
  }
}
