/** The lock of one store: its operations run one at a time, in call order. */
export class Lock {
  #queue: Promise<unknown> = Promise.resolve()

  /** Runs `task` after every task queued before it; `task`'s failure does not block the queue. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task)
    this.#queue = run.catch(() => undefined)
    return run
  }

  /** Resolves when every task queued so far, and every task they queued, is done. */
  async idle(): Promise<void> {
    for (let queue = this.#queue; ; queue = this.#queue) {
      await queue
      if (queue === this.#queue) return
    }
  }
}
