/** One scheduled call of the simulation. */
export interface SimEvent {
  /** Virtual time it is due, ms since the epoch. */
  readonly time: number
  /** Order among events due at the same time: the order they were scheduled in. */
  readonly seq: number
  /** What runs; its promise (if any) is awaited before time moves on. */
  readonly run: () => unknown
  /** Set by cancel(): the event is skipped when it comes up. */
  cancelled: boolean
}

/**
 * The simulation's one event queue: a binary min-heap ordered by (time, seq), so events
 * due at the same virtual time run in the order they were scheduled, on every run.
 */
export class EventQueue {
  readonly #heap: SimEvent[] = []
  #seq = 0

  /** Events waiting (cancelled ones included until they come up). */
  get size(): number {
    return this.#heap.length
  }

  /** Schedules `run` at virtual time `time` (ms). */
  push(time: number, run: () => unknown): SimEvent {
    const event: SimEvent = { time, seq: this.#seq++, run, cancelled: false }
    const heap = this.#heap
    heap.push(event)
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(event, heap[parent]!)) break
      heap[i] = heap[parent]!
      i = parent
    }
    heap[i] = event
    return event
  }

  /** The next live event without taking it, or `undefined`. */
  peek(): SimEvent | undefined {
    while (this.#heap[0]?.cancelled) this.#take()
    return this.#heap[0]
  }

  /** Takes the next live event, or `undefined` when none is left. */
  pop(): SimEvent | undefined {
    return this.peek() && this.#take()
  }

  #take(): SimEvent {
    const heap = this.#heap
    const top = heap[0]!
    const last = heap.pop()!
    if (heap.length > 0) {
      let i = 0
      for (;;) {
        const left = 2 * i + 1
        const right = left + 1
        let least = i
        let leastEvent = last
        if (left < heap.length && before(heap[left]!, leastEvent)) {
          least = left
          leastEvent = heap[left]!
        }
        if (right < heap.length && before(heap[right]!, leastEvent)) {
          least = right
          leastEvent = heap[right]!
        }
        if (least === i) break
        heap[i] = leastEvent
        i = least
      }
      heap[i] = last
    }
    return top
  }
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq)
}
