/** The collection the ordered-query tests read (store's query test and the views over the real store). */
import { type BlockContext, type ComputeContext, Memory } from '../src/index.ts'

/** A note: its text and its rank (the declared order). */
export interface Note {
  text: string
  rank: number
}

/**
 * Notes keyed by `payload.id`, with one declared order `rank` (the rank as 4 digits),
 * expiring at `payload.ttl` (ms) when the payload has one.
 */
export class Notes extends Memory<Note | undefined> {
  override orders = { rank: (note: Note | undefined) => String(note!.rank).padStart(4, '0') }
  override idOf({ payload }: BlockContext) {
    return payload.id
  }
  compute(_: Note | undefined, { payload }: ComputeContext<Note | undefined>) {
    return { text: payload.text, rank: payload.rank }
  }
  override expiresAt(_: Note | undefined, { payload }: ComputeContext<Note | undefined>) {
    return payload.ttl ?? Number.POSITIVE_INFINITY
  }
}
