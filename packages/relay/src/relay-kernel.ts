import {
  type Block,
  bytesEqual,
  type KernelOptions,
  type Repo,
  SimpleKernel,
  type SyncLimits,
} from '@picostack/kernel'
import { RelayError } from './errors.ts'
import { DEFAULT_RELAY_LIMITS, type RelayLimits } from './limits.ts'

/** How long a relay keeps a block after its date, by default: 30 days. */
export const DEFAULT_RETENTION_MS = 30 * 24 * 60 * 60 * 1000
/** How far ahead of the relay's clock a block's date may be: 60 s. */
export const MAX_CLOCK_SKEW_MS = 60_000

/** Why the relay refuses a block (`STORE_REJECTED` reason). */
export const RELAY_REJECT = {
  /** Dated more than {@link MAX_CLOCK_SKEW_MS} ahead of the relay's clock. */
  fromFuture: 'the block is dated in the future',
} as const

/** Most hyperswarm connections a relay keeps, by default (its modem's `maxPeers`; hyperswarm's own default). */
export const DEFAULT_MAX_SWARM_PEERS = 64

/**
 * The kernel's session caps for a relay whose WebSocket side has `limits` and whose swarm
 * side keeps `maxSwarmPeers` connections: a session for each of them, and per address as
 * many as the WebSocket side admits from one IP. So the WebSocket side's slot rule (idle
 * connections give way, {@link RelayLimits}) decides who gets in, and the kernel's caps
 * only back it up; below them the kernel would refuse clients the WebSocket side let in.
 * Defaults: 256 + 64 = 320 sessions, 16 per address.
 */
export function relaySessionLimits(
  limits: Pick<RelayLimits, 'maxConnections' | 'maxConnectionsPerIp'> = DEFAULT_RELAY_LIMITS,
  maxSwarmPeers = DEFAULT_MAX_SWARM_PEERS,
): Pick<SyncLimits, 'maxSessions' | 'maxSessionsPerAddress'> {
  return {
    maxSessions: limits.maxConnections + maxSwarmPeers,
    maxSessionsPerAddress: limits.maxConnectionsPerIp,
  }
}

/** Options of {@link RelayKernel}. */
export interface RelayKernelOptions extends KernelOptions {
  /** A block is kept this long after its date, ms (default 30 days), then forgotten. */
  retentionMs?: number
}

/**
 * A kernel that holds and forwards the blocks of any picostack app without knowing its
 * rules: every signed block with a CBOR `[type, payload, date]` body is accepted unless it is
 * dated more than {@link MAX_CLOCK_SKEW_MS} ahead, and forgotten `retentionMs` after its
 * date. Each app peer still applies its own rules to what it receives, so the relay is
 * trusted with nothing; it only makes blocks available while their authors are offline.
 *
 * Its session caps default to {@link relaySessionLimits}() (a relay with the default
 * limits), and `eagerPeers` to 0: a block the relay received is only announced to its
 * other peers (`have`), so its bytes cross the relay only to peers that lack it, those
 * that did not get it over a direct link. `limits` in the options override these. Every
 * other sync limit (memory per session, rates, timeouts) is the kernel's default.
 *
 * Its `blocks` slice counts the blocks it holds.
 */
export class RelayKernel extends SimpleKernel {
  /** Blocks held (a Svelte-compatible store: `blocks.sub(fn)`). */
  readonly blocks: {
    /** How many blocks it holds now. */
    readonly state: number
    /** Calls `fn` with the count now and after each change; returns the unsubscribe. */
    sub(fn: (count: number) => void): () => void
  }
  /** Time a block is kept after its date, ms. */
  readonly retentionMs: number

  /**
   * @param db - an abstract-level database, a directory (classic-level), or nothing (memory)
   * @throws RELAY_INVALID_INPUT when `retentionMs` is not a positive number; the kernel's
   *   KERNEL_INVALID_INPUT for a bad sync limit
   */
  constructor(
    db?: ConstructorParameters<typeof SimpleKernel>[0],
    options: RelayKernelOptions = {},
  ) {
    super(db, {
      ...options,
      limits: { ...relaySessionLimits(), eagerPeers: 0, ...options.limits },
    })
    const { retentionMs = DEFAULT_RETENTION_MS } = options
    if (!(typeof retentionMs === 'number' && retentionMs > 0)) {
      throw new RelayError('RELAY_INVALID_INPUT', 'retentionMs must be a positive number')
    }
    this.retentionMs = retentionMs
    this.blocks = this.store.register<number>({
      name: 'blocks',
      initialValue: 0,
      filter: ({ date, now }) => (date > now + MAX_CLOCK_SKEW_MS ? RELAY_REJECT.fromFuture : false),
      reducer: ({ state }) => state + 1,
      expiresAt: ({ date }) => date + retentionMs,
    })
  }

  /**
   * Accepts appends by any author that extend a chain's head (an app may let others write
   * to a chain; its peers decide whether that author may), and refuses forks, so each
   * chain stays one line on the relay.
   */
  override async mergeStrategy(block: Block, repo: Repo): Promise<boolean> {
    if (block.genesis) return false
    const chainId = await repo.chainOf(block.psig)
    const chain = chainId && (await repo.summary(chainId))
    return !!chain && bytesEqual(chain.headId, block.psig)
  }
}
