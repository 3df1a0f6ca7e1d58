import { SimError } from './errors.ts'

const immediate = (): Promise<void> =>
  new Promise((resolve) =>
    typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0),
  )

/**
 * How the simulator knows every kernel is idle, so virtual time may move: it tracks the
 * promise of every delivery into a kernel (it settles once the kernel handled the
 * message, signature checks on the thread pool included) and of every scenario callback,
 * and {@link Idle.settle} waits until none is pending and the microtask queue is drained.
 * A callback's failure is kept and stops the run.
 */
export class Idle {
  readonly #pending = new Set<Promise<unknown>>()
  #failure: SimError | undefined

  /** @param stallTimeoutMs - wall ms pending work may take before `settle` fails */
  constructor(private readonly stallTimeoutMs: number) {}

  /** The first callback failure (`SIM_CALLBACK_FAILED`), if any. */
  get failure(): SimError | undefined {
    return this.#failure
  }

  /** Waits for `promise` before time moves; a rejection is ignored (a closed wire...). */
  track(promise: Promise<unknown>): void {
    this.#pending.add(promise)
    const done = () => this.#pending.delete(promise)
    promise.then(done, done)
  }

  /** Waits for `promise` before time moves; a rejection becomes the run's failure. */
  guard(what: string, promise: Promise<unknown>): void {
    this.track(promise.catch((cause) => this.#fail(what, cause)))
  }

  /** Runs `fn` (sync or async) as {@link guard} does. */
  callback(what: string, fn: () => unknown): void {
    try {
      const result = fn()
      if (result instanceof Promise) this.guard(what, result)
    } catch (cause) {
      this.#fail(what, cause)
    }
  }

  #fail(what: string, cause: unknown): void {
    this.#failure ??= new SimError('SIM_CALLBACK_FAILED', `${what} failed: ${cause}`, { cause })
  }

  /**
   * Resolves once nothing tracked is pending and the microtask queue is drained.
   * @param where - named in the error (e.g. the virtual time)
   * @throws SIM_STALLED when pending work does not settle within `stallTimeoutMs` (wall)
   */
  async settle(where: string): Promise<void> {
    for (;;) {
      await immediate()
      if (this.#pending.size === 0) return
      let timer: ReturnType<typeof setTimeout> | undefined
      const stalled = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), this.stallTimeoutMs)
      })
      const settled = Promise.allSettled([...this.#pending]).then(() => false)
      const stuck = await Promise.race([settled, stalled])
      clearTimeout(timer)
      if (stuck) {
        throw new SimError(
          'SIM_STALLED',
          `${this.#pending.size} deliveries or callbacks did not settle within ${this.stallTimeoutMs} ms (wall) ${where}: does one wait for virtual time?`,
        )
      }
    }
  }
}
