import { Modem56, type ModemOptions } from '@picostack/modem'
import { RelayError } from './errors.ts'
import { type RelayLimits, relayLimits } from './limits.ts'
import { DEFAULT_MAX_SWARM_PEERS, RelayKernel, relaySessionLimits } from './relay-kernel.ts'
import { WebSocketRelay } from './websocket-relay.ts'

/** Options of {@link startRelay}. */
export interface RelayOptions {
  /** The app's topic on hyperswarm (a string is hashed, as in `modem.join`). */
  topic: string | Uint8Array
  /** WebSocket port (default 8080; 0 = any free port). */
  port?: number
  /** WebSocket bind address (default: every interface). */
  host?: string
  /** HyperDHT bootstrap nodes (default: the public HyperDHT). */
  bootstrap?: ModemOptions['bootstrap']
  /**
   * Address the DHT binds (default `127.0.0.1` when every bootstrap node is on 127.0.0.1,
   * i.e. a local testnet; otherwise every interface).
   */
  dhtHost?: string
  /** classic-level directory of the relay's kernel (default: in memory, gone on exit). */
  data?: string
  /** A block is kept this long after its date, ms (default 30 days). */
  retentionMs?: number
  /** WebSocket limits (see {@link RelayLimits}). */
  limits?: Partial<RelayLimits>
  /** Most hyperswarm connections (default {@link DEFAULT_MAX_SWARM_PEERS}: 64). */
  maxSwarmPeers?: number
}

/** A running relay: its kernel, its swarm side and its WebSocket side. */
export interface Relay {
  /** The kernel every wire (swarm or WebSocket) syncs with. */
  readonly kernel: RelayKernel
  /** The hyperswarm side, joined to the topic. */
  readonly modem: Modem56
  /** The WebSocket side. */
  readonly server: WebSocketRelay
  /** Where browsers connect, `ws://host:port/`. */
  readonly url: string
  /** Stops serving WebSockets, leaves the swarm and closes the kernel. Idempotent. */
  close(): Promise<void>
}

/** Prefix of a swarm peer's address in the kernel's per-address session count. */
const SWARM_ADDRESS = 'swarm/'

const hostOf = (node: NonNullable<ModemOptions['bootstrap']>[number]) =>
  typeof node === 'string' ? node.slice(0, node.lastIndexOf(':')) : node.host

/**
 * Starts a relay peer (what `picostack-relay` runs): a {@link RelayKernel} that joins
 * `topic` on hyperswarm and serves WebSocket clients, all on one kernel, so blocks flow
 * browser <-> relay <-> swarm (and browser <-> browser through it).
 *
 * ```ts
 * const relay = await startRelay({ topic: 'our-flat', port: 8080 })
 * // browsers: wsWire(kernel.spawnWire(), new WebSocket('ws://relay-host:8080/'))
 * await relay.close()
 * ```
 * @throws RELAY_INVALID_INPUT for a bad limit, `maxSwarmPeers` or `retentionMs`, the modem's
 *   MODEM_INVALID_TOPIC for a bad topic (nothing is left open)
 * @throws the server's error when the port is taken (`EADDRINUSE`)
 */
export async function startRelay(options: RelayOptions): Promise<Relay> {
  const { bootstrap, maxSwarmPeers = DEFAULT_MAX_SWARM_PEERS } = options
  if (!(Number.isInteger(maxSwarmPeers) && maxSwarmPeers > 0)) {
    throw new RelayError('RELAY_INVALID_INPUT', 'maxSwarmPeers must be a positive integer')
  }
  const limits = relayLimits(options.limits)
  const local = bootstrap?.length && bootstrap.every((node) => hostOf(node) === '127.0.0.1')
  const kernel = new RelayKernel(options.data, {
    retentionMs: options.retentionMs,
    limits: relaySessionLimits(limits, maxSwarmPeers),
  })
  let modem: Modem56 | undefined
  let server: WebSocketRelay | undefined
  const close = async () => {
    await server?.close()
    await modem?.destroy()
    await kernel.close()
  }
  try {
    await kernel.boot()
    modem = new Modem56({
      bootstrap,
      host: options.dhtHost ?? (local ? '127.0.0.1' : undefined),
      maxPeers: maxSwarmPeers,
    })
    // Swarm peers' IP addresses go to the kernel's per-address cap as `swarm/<ip>`, apart
    // from the WebSocket clients' (whose slot rule the cap only backs up): one host holds
    // at most maxConnectionsPerIp sessions on each side, however many swarm keys it makes.
    await modem.join(options.topic, ({ address }) =>
      kernel.spawnWire({
        address: address === undefined ? undefined : `${SWARM_ADDRESS}${address}`,
      }),
    )
    // The client's address goes to the kernel too: its per-address session cap backs up ours.
    server = await WebSocketRelay.listen(({ address }) => kernel.spawnWire({ address }), {
      port: options.port ?? 8080,
      host: options.host,
      limits,
    })
  } catch (err) {
    await close()
    throw err
  }
  let closing: Promise<void> | undefined
  return {
    kernel,
    modem,
    server,
    url: server.url,
    close: () => (closing ??= close()),
  }
}
