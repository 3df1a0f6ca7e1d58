/**
 * A binary min-heap of timers ordered by `at` (ms since the epoch). Entries are never removed from the middle:
 * the store checks each popped timer against its current state and drops stale ones.
 */
export class TimerHeap<Timer extends { at: number }> {
  #items: Timer[] = []

  /** Number of timers (stale ones included). */
  get size(): number {
    return this.#items.length
  }

  /** The earliest timer without removing it. */
  peek(): Timer | undefined {
    return this.#items[0]
  }

  /** Adds a timer; O(log n). */
  push(timer: Timer): void {
    const items = this.#items
    items.push(timer)
    let i = items.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (items[parent]!.at <= timer.at) break
      items[i] = items[parent]!
      i = parent
    }
    items[i] = timer
  }

  /** Removes and returns the earliest timer; O(log n). */
  pop(): Timer | undefined {
    const items = this.#items
    const top = items[0]
    const last = items.pop()
    if (top === undefined || last === undefined || items.length === 0) return top
    let i = 0
    for (;;) {
      const left = 2 * i + 1
      if (left >= items.length) break
      const right = left + 1
      const child = right < items.length && items[right]!.at < items[left]!.at ? right : left
      if (items[child]!.at >= last.at) break
      items[i] = items[child]!
      i = child
    }
    items[i] = last
    return top
  }

  /** Removes every timer. */
  clear(): void {
    this.#items = []
  }
}
