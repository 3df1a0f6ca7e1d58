/** Runs async tasks one at a time, in the order they were queued. */
export class Mutex {
  #tail: Promise<unknown> = Promise.resolve()

  /** Runs `task` after every task queued before it has settled; resolves with its result. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task)
    this.#tail = result.catch(() => undefined)
    return result
  }

  /** Resolves once every task queued so far has settled. */
  idle(): Promise<void> {
    return this.#tail.then(() => undefined)
  }
}
