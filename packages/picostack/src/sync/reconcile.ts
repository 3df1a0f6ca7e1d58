import { bytesEqual } from '@picostack/feed'
import type { ChainSummary } from '@picostack/repo'
import { KernelError } from '../errors.ts'
import type { ChainSource } from './chain-source.ts'
import type { SyncLimits } from './limits.ts'
import { answerItems, type ListContext, listOf, onLacks, relist } from './lists.ts'
import type { Ranges } from './messages.ts'
import { PassTags, PROTOCOL_PARTS, type TagParts } from './pass-tags.ts'
import {
  type ChainHead,
  child,
  comparePrefixes,
  earliest,
  type FingerprintEntry,
  type ItemsEntry,
  isInside,
  type LacksEntry,
  MAX_PREFIX_NIBBLES,
  type RangeEntry,
} from './ranges.ts'
import { SALT_BYTES } from './salted-hash.ts'
import { Siblings } from './siblings.ts'

/** What the reconciliation of one session does with what it learns. */
export interface ReconcileLink {
  /** The kernel's chains. */
  readonly source: ChainSource
  /** The session's limits. */
  readonly limits: SyncLimits
  /** True once the session closed. */
  isClosed(): boolean
  /** `n` random bytes (a pass's salt). */
  randomBytes(n: number): Uint8Array
  /** Sends a `ranges` message. */
  send(message: Ranges): void
  /** The peer holds no item in `prefix` (or none but `except`, 8-byte id heads in hex): send it all. */
  pushRange(prefix: Uint8Array, except?: ReadonlySet<string>): void
  /** The peer holds nothing of chain `chainId`: send it all. */
  lacks(chainId: Uint8Array): void
  /** The peer holds `head`: send what follows it, if we hold more. */
  learn(head: ChainHead): void
  /** We hold chain `chain` behind (or beside) the peer's head: ask for what follows ours. */
  want(chain: ChainSummary): void
}

/** A range of our last message the peer may answer. */
interface OpenRange {
  prefix: Uint8Array
  /**
   * The entry we sent: a fingerprint (answer: split, items, count 0), items (answer: lacks),
   * or lacks of a short list (answer: the list again, wide, when our check shows a collision).
   */
  entry: FingerprintEntry | ItemsEntry | LacksEntry
}

/**
 * True for an entry its receiver answers (a non-empty fingerprint, items, the lacks of a
 * short list); `answered` is the range of ours a lacks entry answers.
 */
function asksAnswer(entry: RangeEntry, answered: OpenRange | undefined, parts: TagParts): boolean {
  if (entry.kind === 'lacks') {
    return answered?.entry.kind === 'items' && answered.entry.part < parts.wide
  }
  return entry.kind === 'items' || entry.count > 0
}

/**
 * Most bytes a fingerprint entry adds to a message (kind, a prefix of a few nibbles, count,
 * fingerprint of 4 or 8 B: about 17 B and the prefix).
 */
const FINGERPRINT_ENTRY_BYTES = 24
/** Most bytes one head adds to a lacks entry (array, index, height, 4-byte head part). */
const HEAD_BYTES = 16
/** Most bytes a lacks entry adds besides its bitmap and heads (prefix of a few nibbles, check). */
const LACKS_ENTRY_BYTES = 24

/**
 * Range-based set reconciliation for one session (docs/protocol.md, "Reconciliation";
 * Meyer, "Range-Based Set Reconciliation", 2022) over the canonical 16-ary trie of the
 * repo's reconciliation index: the initiator opens a pass with a fresh salt and the root's
 * count and (salted) fingerprint; each side answers every range of the other's last
 * message: equal ranges are dropped, a range the peer holds nothing of is pushed whole, a
 * range we hold nothing of is answered with count 0, a small differing range is listed as
 * salted item tags (answered with what the receiver lacks and its other heads), a large one
 * is split into its 16 children. Memory: the ranges of our last message only. Work: bounded
 * per session (`maxReconcileWork`), past it the peer is `KERNEL_MISBEHAVING`.
 */
export class Reconciler {
  /** Ranges of our last message the peer may answer, ascending. */
  #open: OpenRange[] = []
  /** Where this pass must resume (the earliest entry either side dropped), if anywhere. */
  #resume: Uint8Array | undefined
  /** The salted values of the current pass (none before the first). */
  #tags: PassTags | undefined
  /** Work the peer caused so far, and the most it may (set on first use). */
  #work = 0
  #maxWork: number | undefined

  /**
   * @param initiator - true on the side that opens passes (the smaller node id)
   * @param parts - bytes of the tag parts: {@link PROTOCOL_PARTS}; tests force tag
   *   collisions with narrower ones (both sides must agree)
   */
  constructor(
    private readonly link: ReconcileLink,
    readonly initiator: boolean,
    private readonly parts: TagParts = PROTOCOL_PARTS,
  ) {}

  /** The initiator opens the first pass (the responder waits for it). */
  async start(): Promise<void> {
    if (this.initiator) await this.#openPass(undefined)
  }

  /**
   * Opens a pass under a fresh salt: the root, or from `resume` on, the ranges covering
   * every id at or after it (`resume` itself, then the later siblings of each of its
   * ancestors').
   */
  async #openPass(resume: Uint8Array | undefined): Promise<void> {
    const { source } = this.link
    this.#resume = undefined
    const tags = new PassTags(this.link.randomBytes(SALT_BYTES), this.parts)
    this.#tags = tags
    const entries: FingerprintEntry[] = []
    if (!resume) {
      const root = await source.rangeFingerprint(new Uint8Array(0))
      entries.push(tags.entry(new Uint8Array(0), root))
    } else {
      for (let depth = resume.length; depth >= 1; depth--) {
        const parent = resume.subarray(0, depth - 1)
        const children = await source.rangeChildren(parent)
        for (
          let nibble = depth === resume.length ? resume[depth - 1]! : resume[depth - 1]! + 1;
          nibble < 16;
          nibble++
        ) {
          entries.push(tags.entry(child(parent, nibble), children[nibble]!))
        }
      }
    }
    if (this.link.isClosed()) return
    // A cover longer than a message: the rest waits for the pass after this one.
    const { maxRanges } = this.link.limits
    if (entries.length > maxRanges) this.#resume = entries.splice(maxRanges)[0]!.prefix
    // The root stays open even when empty: a responder without items says so.
    this.#open = entries
      .filter((e) => e.count > 0 || e.prefix.length === 0)
      .map((entry) => ({ prefix: entry.prefix, entry }))
    // The responder learns where this pass resumes: it then ends the pass with a message.
    this.link.send({ type: 'ranges', salt: tags.salt, entries, resume: this.#resume })
  }

  /** Counts work the peer caused; past the session's budget the peer is misbehaving. */
  async #charge(units: number): Promise<void> {
    if (this.#maxWork === undefined) {
      const held = (await this.link.source.rangeFingerprint(new Uint8Array(0))).count
      this.#maxWork = this.link.limits.maxReconcileWork + 4 * held
    }
    this.#work += units
    if (this.#work > this.#maxWork) {
      throw new KernelError(
        'KERNEL_MISBEHAVING',
        `reconciliation work over ${this.#maxWork} (ranges, items and heads received)`,
      )
    }
  }

  /**
   * A `ranges` message from the peer: every entry must answer a range of our last message
   * (or open a pass, on the responder). Answers it.
   * @throws KERNEL_PROTOCOL for an entry outside our open ranges, a pass opened by the
   *   responder, a lacks entry that does not fit the items it answers
   * @throws KERNEL_TOO_LARGE for a list of more than `listItems` tags
   * @throws KERNEL_MISBEHAVING past the session's work budget
   */
  async receive(message: Ranges): Promise<void> {
    const { limits } = this.link
    let answered: OpenRange[] = []
    if (message.salt) {
      if (this.initiator) throw new KernelError('KERNEL_PROTOCOL', 'a pass opened by the responder')
      if (message.entries.some((e) => e.kind !== 'fingerprint')) {
        throw new KernelError('KERNEL_PROTOCOL', 'a pass opens with fingerprints only')
      }
      this.#tags = new PassTags(message.salt, this.parts)
      this.#resume = undefined
    } else {
      answered = this.#match(message.entries, this.#open)
    }
    // Entries only answer what we opened in a pass (or open one): `tags` is set where read.
    const tags = this.#tags
    let units = message.entries.length
    for (const e of message.entries) {
      if (e.kind === 'items') {
        const n = tags!.count(e)
        if (n > limits.listItems) {
          throw new KernelError(
            'KERNEL_TOO_LARGE',
            `a list of ${n} items, limit ${limits.listItems}`,
          )
        }
        units += n
      }
      if (e.kind === 'lacks') units += e.heads.length
    }
    await this.#charge(Math.max(1, units))
    this.#open = []
    this.#resume = earliest(this.#resume, message.resume)
    const out: RangeEntry[] = []
    const next: OpenRange[] = []
    const maxBytes = limits.maxMessageBytes >> 1
    let bytes = 0
    let items = 0 // tags and heads in `out` (the peer refuses past maxItems)
    let asked = 0 // our items in the small ranges `out` asks about: about what the peer lists
    let resume: Uint8Array | undefined
    const siblings = new Siblings(this.link.source)
    const ctx: ListContext = { link: this.link, tags: tags!, charge: (u) => this.#charge(u) }
    for (const [i, entry] of message.entries.entries()) {
      if (this.link.isClosed()) return
      if (entry.kind === 'lacks') {
        const listed = answered[i]!.entry as ItemsEntry
        if (!(await onLacks(ctx, entry, listed))) continue
        // A listed chain part matched another chain of the peer's: we list the range again,
        // wide, when there is room (else the next pass finds it, under another salt).
        const again = listed.part < this.parts.wide ? await relist(ctx, listed.prefix) : undefined
        const add = again ? again.tags.length + again.genesis.length + FINGERPRINT_ENTRY_BYTES : 0
        if (
          again &&
          out.length + 1 <= limits.maxRanges &&
          bytes + add <= maxBytes &&
          items + tags!.count(again) <= limits.maxItems
        ) {
          out.push(again)
          next.push({ prefix: again.prefix, entry: again })
          bytes += add
          items += tags!.count(again)
        }
        continue
      }
      // The most bytes, tags and heads this entry's answer adds: a head per listed item; for
      // a fingerprint, our list of the range (our count, when it is small) or a split.
      const listed = entry.kind === 'items' ? tags!.count(entry) : 0
      const held = entry.kind === 'fingerprint' ? (await siblings.of(entry.prefix)).count : 0
      const lists = entry.kind === 'fingerprint' && held <= limits.listItems
      const worst =
        entry.kind === 'items'
          ? listed * HEAD_BYTES + listed + LACKS_ENTRY_BYTES
          : Math.max(
              16 * FINGERPRINT_ENTRY_BYTES,
              lists ? held * (this.parts.wide + this.parts.head) + FINGERPRINT_ENTRY_BYTES : 0,
            )
      const worstItems = entry.kind === 'items' ? listed : lists ? held : 0
      if (
        out.length + 16 > limits.maxRanges ||
        bytes + worst > maxBytes ||
        items + worstItems > limits.maxItems
      ) {
        resume = entry.prefix // this entry and the rest wait for the next pass
        break
      }
      const [before, opened] = [out.length, next.length]
      const added =
        entry.kind === 'fingerprint'
          ? await this.#compare(tags!, entry, out, next, siblings, limits.maxItems - items)
          : await this.#answerItems(ctx, entry, out, next)
      // A split whose small children the peer could not list in one answer with the ones
      // before it waits for the next pass (a split has no other effect to undo).
      const asks = smallRanges(next.slice(opened), limits.listItems)
      if (asked > 0 && asked + asks > limits.maxItems) {
        out.length = before
        next.length = opened
        resume = entry.prefix
        break
      }
      asked += asks
      bytes += added
      for (let j = before; j < out.length; j++) items += itemsOf(tags!, out[j]!)
    }
    if (this.link.isClosed()) return
    this.#resume = earliest(this.#resume, resume)
    this.#open = next
    if (next.length > 0) {
      this.link.send({ type: 'ranges', salt: undefined, entries: out, resume })
      return
    }
    // The pass ends. A message that asked for no answer ended it on the peer's side: nothing
    // more goes back. Otherwise ours ends it, and tells the initiator where to resume.
    const ended =
      !message.salt && !message.entries.some((e, i) => asksAnswer(e, answered[i], this.parts))
    if (!ended && (out.length > 0 || (!this.initiator && this.#resume))) {
      this.link.send({ type: 'ranges', salt: undefined, entries: out, resume: this.#resume })
    }
    if (this.initiator && this.#resume) await this.#openPass(this.#resume)
  }

  /**
   * For each entry, the open range it answers.
   * @throws KERNEL_PROTOCOL when one answers none
   */
  #match(entries: RangeEntry[], open: OpenRange[]): OpenRange[] {
    const answered: OpenRange[] = []
    let at = 0
    for (const entry of entries) {
      // Both lists ascend: skip the open ranges wholly before this entry.
      while (at < open.length && comparePrefixes(open[at]!.prefix, entry.prefix) < 0) at++
      const range = open[at]
      const exact = range !== undefined && entry.prefix.length === range.prefix.length
      const fits =
        range !== undefined &&
        isInside(entry.prefix, range.prefix) &&
        (entry.kind === 'lacks'
          ? range.entry.kind === 'items' && exact
          : range.entry.kind === 'fingerprint' ||
            // A list again, wide, answering the lacks of its short list.
            (entry.kind === 'items' &&
              range.entry.kind === 'lacks' &&
              exact &&
              entry.part === this.parts.wide))
      if (!fits) {
        throw new KernelError(
          'KERNEL_PROTOCOL',
          `a ${entry.kind} range outside the ranges left open`,
        )
      }
      answered.push(range)
    }
    return answered
  }

  /**
   * Compares the peer's count and fingerprint of a range with ours, and answers (a list of
   * at most `room` items: a longer one, found when the range grew since its count was
   * read, is split instead).
   * @returns about the bytes added to `out`
   */
  async #compare(
    tags: PassTags,
    entry: FingerprintEntry,
    out: RangeEntry[],
    next: OpenRange[],
    siblings: Siblings,
    room: number,
  ): Promise<number> {
    const { source, limits } = this.link
    const { prefix } = entry
    const mine = await siblings.of(prefix)
    const ours = tags.entry(prefix, mine)
    if (
      mine.count === entry.count &&
      ours.fingerprint &&
      entry.fingerprint &&
      bytesEqual(ours.fingerprint, entry.fingerprint)
    ) {
      return 0 // agreed
    }
    if (mine.count === 0 && entry.count === 0) {
      // No items either side; partial chains (not items) of ours here go as for a fresh peer.
      if ((await source.listChains({ prefix, limit: 1 })).length > 0) this.link.pushRange(prefix)
      if (prefix.length > 0 || this.initiator) return 0
      // Two repos without items: the initiator learns it too (and sends its partial chains).
      out.push(ours)
      return FINGERPRINT_ENTRY_BYTES
    }
    if (entry.count === 0) {
      this.link.pushRange(prefix) // the peer holds nothing here
      return 0
    }
    if (mine.count === 0) {
      out.push(ours) // the peer pushes it all
      return FINGERPRINT_ENTRY_BYTES
    }
    if (mine.count <= limits.listItems || prefix.length === MAX_PREFIX_NIBBLES) {
      const chains = await source.listChains({ prefix, limit: limits.listItems, proven: true })
      if (chains.length === 0) {
        out.push({ kind: 'fingerprint', prefix, count: 0, fingerprint: undefined })
        return FINGERPRINT_ENTRY_BYTES
      }
      const items = listOf(tags, prefix, chains)
      if (items && chains.length <= room) {
        out.push(items)
        next.push({ prefix, entry: items })
        return items.tags.length + items.genesis.length + FINGERPRINT_ENTRY_BYTES
      }
    }
    const children = await source.rangeChildren(prefix)
    for (const [nibble, range] of children.entries()) {
      const split = tags.entry(child(prefix, nibble), range)
      out.push(split)
      if (split.count > 0) next.push({ prefix: split.prefix, entry: split })
    }
    return 16 * FINGERPRINT_ENTRY_BYTES
  }

  /**
   * The peer listed every item it holds in a range: our answer (the lacks of a short list
   * stays open: the peer lists it again, wide, when the check shows a collision).
   * @returns about the bytes added to `out`
   */
  async #answerItems(
    ctx: ListContext,
    entry: ItemsEntry,
    out: RangeEntry[],
    next: OpenRange[],
  ): Promise<number> {
    const answer = await answerItems(ctx, entry)
    out.push(answer)
    if (entry.part < this.parts.wide) next.push({ prefix: entry.prefix, entry: answer })
    return answer.heads.length * HEAD_BYTES + answer.lack.length + LACKS_ENTRY_BYTES
  }
}

/** Our items in the open fingerprint ranges of at most `listItems` (the peer lists those). */
function smallRanges(open: readonly OpenRange[], listItems: number): number {
  let sum = 0
  for (const { entry } of open) {
    if (entry.kind === 'fingerprint' && entry.count <= listItems) sum += entry.count
  }
  return sum
}

/** Tags and heads an entry carries (what `maxItems` counts). */
function itemsOf(tags: PassTags, entry: RangeEntry): number {
  if (entry.kind === 'items') return tags.count(entry)
  return entry.kind === 'lacks' ? entry.heads.length : 0
}
