import { bytesEqual, toHex } from '@picostack/feed'
import type { ChainSummary } from '@picostack/repo'
import { KernelError } from '../errors.ts'
import type { ChainSource, RangeFingerprint } from './chain-source.ts'
import type { SyncLimits } from './limits.ts'
import type { Ranges } from './messages.ts'
import {
  type ChainHead,
  comparePrefixes,
  type FingerprintEntry,
  type ItemsEntry,
  isInside,
  type LacksEntry,
  MAX_PREFIX_NIBBLES,
  type RangeEntry,
  TAG_BYTES,
} from './ranges.ts'

/** What the reconciliation of one session does with what it learns. */
export interface ReconcileLink {
  /** The kernel's chains. */
  readonly source: ChainSource
  /** The session's limits. */
  readonly limits: SyncLimits
  /** True once the session closed. */
  isClosed(): boolean
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
  /** The entry we sent: a fingerprint (answer: split, items, count 0) or items (answer: lacks). */
  entry: FingerprintEntry | ItemsEntry
}

/** Bytes of a chain id's head that a tag carries (and of the head id's). */
const TAG_ID_BYTES = TAG_BYTES / 2

/** The nibbles of `bytes` (two per byte, high first). */
function nibbles(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length * 2)
  for (const [i, byte] of bytes.entries()) {
    out[2 * i] = byte >> 4
    out[2 * i + 1] = byte & 15
  }
  return out
}

/** The tag of a chain: its id's first 8 bytes, then its head id's first 8. */
function tagOf(chain: ChainSummary, out: Uint8Array, at: number): void {
  out.set(chain.chainId.subarray(0, TAG_ID_BYTES), at)
  out.set(chain.headId.subarray(0, TAG_ID_BYTES), at + TAG_ID_BYTES)
}

/** The `i`th tag of `tags`: its chain id part and head id part. */
function tagAt(tags: Uint8Array, i: number): { id: Uint8Array; head: Uint8Array } {
  const at = i * TAG_BYTES
  return {
    id: tags.subarray(at, at + TAG_ID_BYTES),
    head: tags.subarray(at + TAG_ID_BYTES, at + TAG_BYTES),
  }
}

/** `prefix` followed by `nibble`. */
function child(prefix: Uint8Array, nibble: number): Uint8Array {
  const out = new Uint8Array(prefix.length + 1)
  out.set(prefix)
  out[prefix.length] = nibble
  return out
}

/** The smaller of two resume points (undefined: none). */
function earliest(a: Uint8Array | undefined, b: Uint8Array | undefined): Uint8Array | undefined {
  if (!a) return b
  if (!b) return a
  const order = comparePrefixes(a, b)
  if (order !== 0) return order < 0 ? a : b
  return a.length <= b.length ? a : b // one contains the other: the wider
}

/** Tags and heads an entry carries (what `maxItems` counts). */
function itemsOf(entry: RangeEntry): number {
  if (entry.kind === 'items') return entry.tags.length / TAG_BYTES
  return entry.kind === 'lacks' ? entry.heads.length : 0
}

/** True for an entry its receiver answers (a non-empty fingerprint, or items). */
function asksAnswer(entry: RangeEntry): boolean {
  return entry.kind === 'items' || (entry.kind === 'fingerprint' && entry.count > 0)
}

/** Most bytes an entry adds to a message: a split (16 fingerprints) or a list of tags. */
const FINGERPRINT_ENTRY_BYTES = 48
/**
 * Newest blocks of a chain searched for the head a peer's item tag names (one read): a
 * peer that far behind gets the blocks after its head at once, without a head and a `want`
 * going back and forth.
 */
const HEAD_SEARCH_BLOCKS = 16

/** Most bytes one head adds to a lacks entry. */
const HEAD_BYTES = 140

/**
 * Range-based set reconciliation for one session (docs/protocol.md, "Reconciliation";
 * Meyer, "Range-Based Set Reconciliation", 2022) over the canonical 16-ary trie of the
 * repo's reconciliation index: the initiator opens a pass with the root's count and
 * fingerprint; each side answers every range of the other's last message: equal ranges
 * are dropped, a range the peer holds nothing of is pushed whole, a range we hold nothing
 * of is answered with count 0, a small differing range is listed as item tags (answered
 * with what the receiver lacks and its other heads), a large one is split into its 16
 * children. Memory: the ranges of our last message only. Work: bounded per session
 * (`maxReconcileWork`), past it the peer is `KERNEL_MISBEHAVING`.
 */
export class Reconciler {
  /** Ranges of our last message the peer may answer, ascending. */
  #open: OpenRange[] = []
  /** Where this pass must resume (the earliest entry either side dropped), if anywhere. */
  #resume: Uint8Array | undefined
  /** Work the peer caused so far, and the most it may (set on first use). */
  #work = 0
  #maxWork: number | undefined

  /** @param initiator - true on the side that opens passes (the smaller node id) */
  constructor(
    private readonly link: ReconcileLink,
    readonly initiator: boolean,
  ) {}

  /** The initiator opens the first pass (the responder waits for it). */
  async start(): Promise<void> {
    if (this.initiator) await this.#openPass(undefined)
  }

  /**
   * Opens a pass: the root, or from `resume` on, the ranges covering every id at or after
   * it (`resume` itself, then the later siblings of each of its ancestors').
   */
  async #openPass(resume: Uint8Array | undefined): Promise<void> {
    const { source } = this.link
    this.#resume = undefined
    const entries: FingerprintEntry[] = []
    if (!resume) {
      const root = await source.rangeFingerprint(new Uint8Array(0))
      entries.push(fingerprintEntry(new Uint8Array(0), root.count, root.fingerprint))
    } else {
      for (let depth = resume.length; depth >= 1; depth--) {
        const parent = resume.subarray(0, depth - 1)
        const children = await source.rangeChildren(parent)
        for (
          let nibble = depth === resume.length ? resume[depth - 1]! : resume[depth - 1]! + 1;
          nibble < 16;
          nibble++
        ) {
          const { count, fingerprint } = children[nibble]!
          entries.push(fingerprintEntry(child(parent, nibble), count, fingerprint))
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
    this.link.send({ type: 'ranges', start: true, entries, resume: this.#resume })
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
   * @throws KERNEL_PROTOCOL for an entry outside our open ranges, a start on the initiator,
   *   a lacks entry that does not fit the items it answers
   * @throws KERNEL_MISBEHAVING past the session's work budget
   */
  async receive(message: Ranges): Promise<void> {
    const { limits } = this.link
    let units = message.entries.length
    for (const e of message.entries) {
      if (e.kind === 'items') {
        const n = e.tags.length / TAG_BYTES
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
    let answered: OpenRange[] = []
    if (message.start) {
      if (this.initiator) throw new KernelError('KERNEL_PROTOCOL', 'a pass opened by the responder')
      if (message.entries.some((e) => e.kind !== 'fingerprint')) {
        throw new KernelError('KERNEL_PROTOCOL', 'a pass opens with fingerprints only')
      }
      this.#resume = undefined
    } else {
      answered = this.#match(message.entries, this.#open)
    }
    this.#open = []
    this.#resume = earliest(this.#resume, message.resume)
    const out: RangeEntry[] = []
    const next: OpenRange[] = []
    const maxBytes = limits.maxMessageBytes >> 1
    let bytes = 0
    let items = 0 // tags and heads in `out` (the peer refuses past maxItems)
    let resume: Uint8Array | undefined
    const siblings = new Siblings(this.link.source)
    for (const [i, entry] of message.entries.entries()) {
      if (this.link.isClosed()) return
      if (entry.kind === 'lacks') {
        await this.#onLacks(entry, answered[i]!.entry as ItemsEntry)
        continue
      }
      const worst =
        entry.kind === 'items'
          ? (entry.tags.length / TAG_BYTES) * HEAD_BYTES + HEAD_BYTES
          : Math.max(16 * FINGERPRINT_ENTRY_BYTES, limits.listItems * TAG_BYTES + HEAD_BYTES)
      // The most tags and heads this entry's answer adds: a list, or a head per listed item.
      const worstItems = entry.kind === 'items' ? entry.tags.length / TAG_BYTES : limits.listItems
      if (
        out.length + 16 > limits.maxRanges ||
        bytes + worst > maxBytes ||
        items + worstItems > limits.maxItems
      ) {
        resume = entry.prefix // this entry and the rest wait for the next pass
        break
      }
      const before = out.length
      bytes +=
        entry.kind === 'fingerprint'
          ? await this.#compare(entry, out, next, siblings)
          : await this.#answerItems(entry, out)
      for (let j = before; j < out.length; j++) items += itemsOf(out[j]!)
    }
    if (this.link.isClosed()) return
    this.#resume = earliest(this.#resume, resume)
    this.#open = next
    if (next.length > 0) {
      this.link.send({ type: 'ranges', start: false, entries: out, resume })
      return
    }
    // The pass ends. A message that asked for no answer ended it on the peer's side: nothing
    // more goes back. Otherwise ours ends it, and tells the initiator where to resume.
    const ended = !message.start && !message.entries.some(asksAnswer)
    if (!ended && (out.length > 0 || (!this.initiator && this.#resume))) {
      this.link.send({ type: 'ranges', start: false, entries: out, resume: this.#resume })
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
      const fits =
        range !== undefined &&
        isInside(entry.prefix, range.prefix) &&
        (entry.kind === 'lacks'
          ? range.entry.kind === 'items' && entry.prefix.length === range.prefix.length
          : range.entry.kind === 'fingerprint')
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
   * Compares the peer's count and fingerprint of a range with ours, and answers.
   * @returns about the bytes added to `out`
   */
  async #compare(
    entry: FingerprintEntry,
    out: RangeEntry[],
    next: OpenRange[],
    siblings: Siblings,
  ): Promise<number> {
    const { source, limits } = this.link
    const { prefix } = entry
    const mine = await siblings.of(prefix)
    if (
      mine.count === entry.count &&
      entry.fingerprint &&
      bytesEqual(mine.fingerprint, entry.fingerprint)
    ) {
      return 0 // agreed
    }
    if (mine.count === 0 && entry.count === 0) {
      // No items either side; partial chains (not items) of ours here go as for a fresh peer.
      if ((await source.listChains({ prefix, limit: 1 })).length > 0) this.link.pushRange(prefix)
      if (prefix.length > 0 || this.initiator) return 0
      // Two repos without items: the initiator learns it too (and sends its partial chains).
      out.push(fingerprintEntry(prefix, 0, mine.fingerprint))
      return FINGERPRINT_ENTRY_BYTES
    }
    if (entry.count === 0) {
      this.link.pushRange(prefix) // the peer holds nothing here
      return 0
    }
    if (mine.count === 0) {
      out.push(fingerprintEntry(prefix, 0, mine.fingerprint)) // the peer pushes it all
      return FINGERPRINT_ENTRY_BYTES
    }
    if (mine.count <= limits.listItems || prefix.length === MAX_PREFIX_NIBBLES) {
      const chains = await source.listChains({ prefix, limit: limits.listItems, proven: true })
      if (chains.length === 0) {
        out.push(fingerprintEntry(prefix, 0, mine.fingerprint))
        return FINGERPRINT_ENTRY_BYTES
      }
      const tags = new Uint8Array(chains.length * TAG_BYTES)
      for (const [i, chain] of chains.entries()) tagOf(chain, tags, i * TAG_BYTES)
      const items: ItemsEntry = { kind: 'items', prefix, tags }
      out.push(items)
      next.push({ prefix, entry: items })
      return tags.length + FINGERPRINT_ENTRY_BYTES
    }
    const children = await source.rangeChildren(prefix)
    for (const [nibble, { count, fingerprint }] of children.entries()) {
      const split = fingerprintEntry(child(prefix, nibble), count, fingerprint)
      out.push(split)
      if (count > 0) next.push({ prefix: split.prefix, entry: split })
    }
    return 16 * FINGERPRINT_ENTRY_BYTES
  }

  /**
   * The peer listed every item it holds in a range: we send what it lacks, and answer
   * which of its items we lack and our heads where they differ.
   * @returns about the bytes added to `out`
   */
  async #answerItems(entry: ItemsEntry, out: RangeEntry[]): Promise<number> {
    const { source, limits } = this.link
    const { prefix, tags } = entry
    const n = tags.length / TAG_BYTES
    const lack = new Uint8Array(Math.ceil(n / 8))
    const heads: ChainHead[] = []
    const page = await source.listChains({ prefix, limit: n + limits.listItems, proven: true })
    const whole = page.length < n + limits.listItems // we hold no more in the range than these
    const matched = new Set<string>()
    for (let i = 0; i < n; i++) {
      const tag = tagAt(tags, i)
      const depth = Math.min(prefix.length, 2 * TAG_ID_BYTES)
      if (!isInside(nibbles(tag.id).subarray(0, depth), prefix.subarray(0, depth))) {
        throw new KernelError('KERNEL_PROTOCOL', 'an item tag outside its range')
      }
      const chain = whole
        ? page.find((c) => bytesEqual(c.chainId.subarray(0, TAG_ID_BYTES), tag.id))
        : (await source.listChains({ prefix: nibbles(tag.id), limit: 1, proven: true }))[0]
      if (!chain) {
        lack[i >> 3]! |= 0x80 >> (i & 7)
        continue
      }
      matched.add(toHex(tag.id))
      if (bytesEqual(chain.headId.subarray(0, TAG_ID_BYTES), tag.head)) continue
      const behind = await this.#findHead(chain, tag.head)
      if (behind)
        this.link.learn(behind) // the peer is behind: we send what follows its head
      else heads.push({ chainId: chain.chainId, headId: chain.headId, height: chain.height })
    }
    // What we hold in the range that the peer did not list, it lacks.
    if (whole) {
      for (const chain of page) {
        if (!matched.has(toHex(chain.chainId.subarray(0, TAG_ID_BYTES))))
          this.link.lacks(chain.chainId)
      }
    } else {
      this.link.pushRange(prefix, matched)
    }
    if (heads.length > 0 || lack.some((byte) => byte !== 0)) {
      const answer: LacksEntry = { kind: 'lacks', prefix, lack, heads }
      out.push(answer)
    }
    return heads.length * HEAD_BYTES + lack.length + FINGERPRINT_ENTRY_BYTES
  }

  /**
   * The peer's head of `chain`, when it is one of our newest {@link HEAD_SEARCH_BLOCKS}
   * blocks whose id starts with `tag` (8 B): the peer is behind us by that much.
   */
  async #findHead(chain: ChainSummary, tag: Uint8Array): Promise<ChainHead | undefined> {
    const feed = await this.link.source.loadFeed(chain.headId, HEAD_SEARCH_BLOCKS)
    const blocks = feed?.blocks ?? []
    for (let i = blocks.length - 2; i >= 0; i--) {
      const id = blocks[i]!.sig
      if (!bytesEqual(id.subarray(0, TAG_ID_BYTES), tag)) continue
      return { chainId: chain.chainId, headId: id, height: chain.height - (blocks.length - 1 - i) }
    }
    return undefined
  }

  /** The peer's answer to items we listed: push what it lacks, compare where heads differ. */
  async #onLacks(entry: LacksEntry, listed: ItemsEntry): Promise<void> {
    const { source } = this.link
    const n = listed.tags.length / TAG_BYTES
    if (entry.lack.length !== Math.ceil(n / 8)) {
      throw new KernelError(
        'KERNEL_PROTOCOL',
        `a lack bitmap for ${n} items must be ${Math.ceil(n / 8)} bytes`,
      )
    }
    for (let i = 0; i < n; i++) {
      if ((entry.lack[i >> 3]! & (0x80 >> (i & 7))) === 0) continue
      const [chain] = await source.listChains({
        prefix: nibbles(tagAt(listed.tags, i).id),
        limit: 1,
        proven: true,
      })
      if (chain) this.link.lacks(chain.chainId)
    }
    for (const head of entry.heads) {
      const id = head.chainId.subarray(0, TAG_ID_BYTES)
      let listedHere = false
      for (let i = 0; i < n && !listedHere; i++)
        listedHere = bytesEqual(tagAt(listed.tags, i).id, id)
      if (!listedHere)
        throw new KernelError('KERNEL_PROTOCOL', 'a head of a chain that was not listed')
      const mine = await source.summary(head.chainId)
      if (!mine) continue
      this.link.learn(head)
      const holder = await source.chainOf(head.headId)
      if (!holder || !bytesEqual(holder, head.chainId)) this.link.want(mine) // the peer is ahead (or forked)
    }
  }
}

/**
 * Our count and fingerprint of ranges, read a parent's 16 children at a time: a message
 * answering a split names all 16, and one read serves them (the last parent read is kept).
 */
class Siblings {
  #parent: Uint8Array | undefined
  #children: RangeFingerprint[] = []

  constructor(private readonly source: ChainSource) {}

  /** Count and fingerprint of `prefix`. */
  async of(prefix: Uint8Array): Promise<RangeFingerprint> {
    if (prefix.length === 0) return this.source.rangeFingerprint(prefix)
    const parent = prefix.subarray(0, prefix.length - 1)
    if (!this.#parent || !bytesEqual(this.#parent, parent)) {
      this.#children = await this.source.rangeChildren(parent)
      this.#parent = parent
    }
    return this.#children[prefix[prefix.length - 1]!]!
  }
}

/** A fingerprint entry (the fingerprint left out for a count of 0). */
function fingerprintEntry(
  prefix: Uint8Array,
  count: number,
  fingerprint: Uint8Array,
): FingerprintEntry {
  return { kind: 'fingerprint', prefix, count, fingerprint: count === 0 ? undefined : fingerprint }
}
