/**
 * Note collections the tests share: {@link Notes}, which the ordered-query tests read (store's
 * query test and the views over the real store), and {@link ExpiringNotes}, for gc and
 * eviction.
 */
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

/** A note that expires: its text and when (ms since the epoch). */
export interface ExpiringNote {
  text: string
  expiresAt: number
}

/** Notes keyed by `payload.id`, living `payload.ttl` ms from their block's date. */
export class ExpiringNotes extends Memory<ExpiringNote | undefined> {
  override idOf({ payload }: BlockContext) {
    return payload.id
  }
  compute(
    _: ExpiringNote | undefined,
    { payload, date }: ComputeContext<ExpiringNote | undefined>,
  ) {
    return { text: payload.text, expiresAt: date + payload.ttl }
  }
  override expiresAt(note: ExpiringNote | undefined) {
    return note?.expiresAt ?? 0
  }
}
