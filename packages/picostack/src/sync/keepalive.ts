import type { Clock } from '@picostack/store'
import { KernelError } from '../errors.ts'
import type { SyncLimits } from './limits.ts'

/** What a {@link Keepalive} does when a deadline passes. */
export interface KeepaliveHooks {
  /** Nothing was sent for `keepaliveMs`: send a ping. */
  ping(): void
  /** Nothing was received for `idleTimeoutMs`: close with `reason` (`KERNEL_IDLE_TIMEOUT`). */
  idle(reason: KernelError): void
}

/**
 * One session's keepalive and idle timer, on the kernel's clock: one timer armed for the
 * next deadline, whichever comes first (a ping after `keepaliveMs` without sending, a close
 * after `idleTimeoutMs` without receiving).
 */
export class Keepalive {
  #lastReceivedAt: number
  #lastSentAt: number
  #timer: unknown
  #stopped = false

  constructor(
    private readonly clock: Clock,
    private readonly limits: Pick<SyncLimits, 'idleTimeoutMs' | 'keepaliveMs'>,
    private readonly hooks: KeepaliveHooks,
  ) {
    this.#lastReceivedAt = clock.now()
    this.#lastSentAt = this.#lastReceivedAt
  }

  /** Arms the timer (the session started). */
  start(): void {
    this.#arm()
  }

  /** Something arrived from the peer. */
  received(): void {
    this.#lastReceivedAt = this.clock.now()
  }

  /** Something was sent to the peer. */
  sent(): void {
    this.#lastSentAt = this.clock.now()
  }

  /** Disarms the timer for good (the session ended). */
  stop(): void {
    this.#stopped = true
    this.clock.clearTimeout(this.#timer)
  }

  #arm(): void {
    if (this.#stopped) return
    const { idleTimeoutMs, keepaliveMs } = this.limits
    const due = Math.min(this.#lastReceivedAt + idleTimeoutMs, this.#lastSentAt + keepaliveMs)
    this.#timer = this.clock.setTimeout(this.#tick, Math.max(1, due - this.clock.now()))
  }

  readonly #tick = (): void => {
    if (this.#stopped) return
    const now = this.clock.now()
    const { idleTimeoutMs, keepaliveMs } = this.limits
    if (now - this.#lastReceivedAt >= idleTimeoutMs) {
      this.stop()
      this.hooks.idle(
        new KernelError('KERNEL_IDLE_TIMEOUT', `nothing received for ${idleTimeoutMs} ms`),
      )
      return
    }
    if (now - this.#lastSentAt >= keepaliveMs) this.hooks.ping()
    this.#arm()
  }
}
