import type { Clock } from '@picostack/store'
import { KernelError } from '../errors.ts'
import type { SyncLimits } from './limits.ts'
import { TokenBucket } from './token-bucket.ts'

/** A message let in: call `done()` once it is handled. */
export interface Admitted {
  done(): void
}

/** A message turned away on arrival (never queued). */
export interface Turned {
  /** Why (`KERNEL_FLOOD`). */
  refusal: KernelError
  /** False when the refusal is not the peer's fault (a busy application): no strike. */
  strike: boolean
}

/** The message type of `msg` when it looks like a request (a CBOR array of 2 starting with 3 or 7). */
function requestType(msg: Uint8Array): 'patch' | 'query' | undefined {
  if (msg[0] !== 0x82) return undefined
  return msg[1] === 3 ? 'patch' : msg[1] === 7 ? 'query' : undefined
}

/**
 * What one peer has sent that waits to be handled, bounded on arrival: messages per second
 * (a token bucket), bytes waiting (`maxInboxBytes`), patches waiting (twice `patchWindow`:
 * an honest sender keeps `patchWindow` in flight) and queries waiting
 * (`maxPendingQueries`). What it turns away is never queued.
 */
export class Backlog {
  readonly #bucket: TokenBucket
  #bytes = 0
  #patches = 0
  #queries = 0

  constructor(
    private readonly limits: SyncLimits,
    clock: Clock,
  ) {
    this.#bucket = new TokenBucket(limits.burst, limits.ratePerSec, () => clock.now())
  }

  /** Lets `msg` in (the caller then handles it and calls `done()`), or says why not. */
  admit(msg: Uint8Array): Admitted | Turned {
    const { limits } = this
    if (!this.#bucket.take()) {
      return this.#flood(`over ${limits.ratePerSec} messages per second (burst ${limits.burst})`)
    }
    if (this.#bytes + msg.length > limits.maxInboxBytes) {
      return this.#flood(`over ${limits.maxInboxBytes} bytes waiting to be handled`)
    }
    const request = requestType(msg)
    if (request === 'patch' && this.#patches >= 2 * limits.patchWindow) {
      return this.#flood(`over ${2 * limits.patchWindow} patches waiting`)
    }
    if (request === 'query' && this.#queries >= limits.maxPendingQueries) {
      // Not a strike: the asker's application may simply ask a lot; it may retry.
      const reason = `over ${limits.maxPendingQueries} queries waiting for an answer`
      return { refusal: new KernelError('KERNEL_FLOOD', reason), strike: false }
    }
    this.#bytes += msg.length
    if (request === 'patch') this.#patches++
    if (request === 'query') this.#queries++
    return {
      done: () => {
        this.#bytes -= msg.length
        if (request === 'patch') this.#patches--
        if (request === 'query') this.#queries--
      },
    }
  }

  #flood(reason: string): Turned {
    return { refusal: new KernelError('KERNEL_FLOOD', reason), strike: true }
  }
}
