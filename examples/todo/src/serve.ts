/** Keeping a to-do kernel online: join a hyperswarm topic and sync with whoever is there. */
import { Modem56 } from '@picostack/modem'
import { TodoError, type TodoKernel } from './kernel.ts'

/** Where to find the swarm. */
export interface ServeOptions {
  /** The list's shared name (hashed into the hyperswarm topic). */
  topic: string
  /** HyperDHT bootstrap nodes, `host:port`; none = the public HyperDHT. */
  bootstrap?: string[]
  /**
   * Address the DHT binds to. Default: `127.0.0.1` when every bootstrap node is on
   * 127.0.0.1 (a local testnet), else all interfaces.
   */
  host?: string
}

/**
 * `host:port` as `{ host, port }`.
 * @throws TODO_INVALID_INPUT for anything else
 */
export function parseHostPort(text: string): { host: string; port: number } {
  const at = text.lastIndexOf(':')
  const host = text.slice(0, at)
  const port = Number(text.slice(at + 1))
  if (at <= 0 || !Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new TodoError('TODO_INVALID_INPUT', `not host:port: ${text}`)
  }
  return { host, port }
}

/**
 * Joins `options.topic` and syncs `kernel` with every peer there.
 * @returns the modem (`await modem.destroy()` to go offline)
 * @throws TODO_INVALID_INPUT for a malformed bootstrap node
 */
export async function serve(kernel: TodoKernel, options: ServeOptions): Promise<Modem56> {
  const nodes = options.bootstrap?.map(parseHostPort)
  const local = nodes?.length && nodes.every((node) => node.host === '127.0.0.1')
  const host = options.host ?? (local ? '127.0.0.1' : undefined)
  const modem = new Modem56({ bootstrap: nodes, host })
  // The address lets the per-address session cap hold one host to a few sessions.
  await modem.join(options.topic, ({ address }) => kernel.spawnWire({ address }))
  return modem
}
