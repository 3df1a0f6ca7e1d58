import type {
  CollectionChange,
  CollectionPage,
  CollectionQuery,
  CollectionReader,
  Subscriber,
  Timer,
} from '../src/index.ts'
import { compareUtf8 } from '../src/index.ts'

/** A timer driven by hand: `advance(ms)` runs what falls due, in order. */
export class FakeTimer implements Timer {
  now = 0
  #seq = 0
  readonly pending = new Map<number, { at: number; fn: () => void }>()

  setTimeout(fn: () => void, ms: number): unknown {
    const handle = ++this.#seq
    this.pending.set(handle, { at: this.now + ms, fn })
    return handle
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number)
  }

  advance(ms: number): void {
    const end = this.now + ms
    for (;;) {
      const due = [...this.pending]
        .filter(([, t]) => t.at <= end)
        .sort((a, b) => a[1].at - b[1].at)[0]
      if (!due) break
      this.pending.delete(due[0])
      this.now = due[1].at
      due[1].fn()
    }
    this.now = end
  }
}

/** Records every value a subscriber receives. */
export function record<T>(view: { subscribe(fn: Subscriber<T>): () => void }) {
  const values: T[] = []
  const stop = view.subscribe((value) => values.push(value))
  return { values, stop }
}

/**
 * An in-memory collection with the store's read API: pages in id order or in an order
 * given by `orderKey`, `next` carrying `orderKey + '\0' + id` for an order as the store's.
 * `reads` counts `query` calls; `gate` (when set) holds reads until released.
 */
export class FakeCollection<V> implements CollectionReader<V> {
  readonly objects = new Map<string, V>()
  readonly observers = new Set<(change: CollectionChange<V>) => void>()
  reads = 0
  failNext: Error | undefined
  hold: Promise<void> | undefined

  readonly orders: Record<string, (value: V, id: string) => string>

  /** @param orderKey - the key of the one declared order, `rank` (none when absent) */
  constructor(readonly orderKey?: (value: V, id: string) => string) {
    this.orders = orderKey ? { rank: orderKey } : {}
  }

  put(id: string, value: V | undefined): void {
    if (value === undefined) this.objects.delete(id)
    else this.objects.set(id, value)
    const change = { id, value }
    for (const fn of [...this.observers]) fn(change)
  }

  async get(id: string): Promise<V | undefined> {
    return this.objects.get(id)
  }

  async count(): Promise<number> {
    return this.objects.size
  }

  onChange(fn: (change: CollectionChange<V>) => void): () => void {
    this.observers.add(fn)
    return () => {
      this.observers.delete(fn)
    }
  }

  async query(q: CollectionQuery = {}): Promise<CollectionPage<V>> {
    this.reads++
    const failure = this.failNext
    this.failNext = undefined
    await this.hold
    if (failure) throw failure
    const limit = q.limit ?? 100
    const ordered = q.index !== undefined
    const keyed = [...this.objects].map(([id, value]) => ({
      id,
      value,
      key: ordered ? `${this.orderKey!(value, id)}\0${id}` : id,
      bound: ordered ? this.orderKey!(value, id) : id,
    }))
    keyed.sort((a, b) => compareUtf8(a.key, b.key))
    if (q.reverse) keyed.reverse()
    const passes = (k: { key: string; bound: string }) => {
      const cmp = (bound: string) => compareUtf8(bound.includes('\0') ? k.key : k.bound, bound)
      if (q.gt !== undefined && cmp(q.gt) <= 0) return false
      if (q.gte !== undefined && cmp(q.gte) < 0) return false
      if (q.lt !== undefined && cmp(q.lt) >= 0) return false
      if (q.lte !== undefined && cmp(q.lte) > 0) return false
      return true
    }
    const matched = keyed.filter(passes)
    const items = matched.slice(0, limit).map(({ id, value }) => ({ id, value }))
    const last = matched[limit - 1]
    if (matched.length <= limit || !last) return { items }
    const next = { ...q, ...(q.reverse ? { lt: last.key } : { gt: last.key }) }
    if (q.reverse) delete next.lte
    else delete next.gte
    return { items, next }
  }
}

/** Lets pending promise callbacks run. */
export const flush = () => new Promise<void>((resolve) => setTimeout(resolve, 0))
