#!/usr/bin/env node
/**
 * `picostack-relay --topic <name> [--port 8080] [--host addr] [--bootstrap host:port]...
 * [--data dir] [--<limit> n]...`: a relay peer for browsers (see the README).
 */
import { parseArgs } from 'node:util'
import { DEFAULT_RELAY_LIMITS, type RelayLimits } from '../limits.ts'
import { startRelay } from '../start-relay.ts'

/** Every relay limit has a flag: `maxConnectionsPerIp` is `--max-connections-per-ip`. */
const LIMIT_FLAGS = Object.keys(DEFAULT_RELAY_LIMITS).map((key) => ({
  key: key as keyof RelayLimits,
  flag: key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`),
}))

const USAGE = `usage: picostack-relay --topic <name> [options]
  --topic <name>                the app's hyperswarm topic (required)
  --port <n>                    WebSocket port (default 8080; 0 = any free port)
  --host <address>              WebSocket bind address (default: every interface)
  --bootstrap <host:port>       HyperDHT bootstrap node, repeatable (default: public HyperDHT)
  --dht-host <address>          DHT bind address (default 127.0.0.1 for a local testnet)
  --data <dir>                  keep blocks in this classic-level directory (default: memory)
  --retention-days <n>          forget blocks n days after their date (default 30)
limits (see the README's table):
${LIMIT_FLAGS.map(({ key, flag }) => `  --${`${flag} <n>`.padEnd(28)}default ${DEFAULT_RELAY_LIMITS[key]}`).join('\n')}`

const DAY_MS = 24 * 60 * 60 * 1000

/** A whole-number option, or undefined when absent. */
function count(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined
  const value = Number(text)
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a whole number`)
  return value
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      topic: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      bootstrap: { type: 'string', multiple: true },
      'dht-host': { type: 'string' },
      data: { type: 'string' },
      'retention-days': { type: 'string' },
      ...Object.fromEntries(LIMIT_FLAGS.map(({ flag }) => [flag, { type: 'string' as const }])),
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) {
    console.log(USAGE)
    return
  }
  if (!values.topic) throw new Error('--topic is required')
  const limits: Partial<RelayLimits> = {}
  for (const { key, flag } of LIMIT_FLAGS) {
    const value = count((values as Record<string, unknown>)[flag] as string | undefined, flag)
    if (value !== undefined) limits[key] = value
  }
  const retentionDays = count(values['retention-days'], 'retention-days')
  const relay = await startRelay({
    topic: values.topic,
    port: count(values.port, 'port') ?? 8080,
    host: values.host,
    bootstrap: values.bootstrap,
    dhtHost: values['dht-host'],
    data: values.data,
    retentionMs: retentionDays === undefined ? undefined : retentionDays * DAY_MS,
    limits,
  })
  console.log(
    `picostack-relay: topic "${values.topic}" on ${relay.url} as ${relay.kernel.pk} (${
      values.data ? `data in ${values.data}` : 'in memory'
    })`,
  )
  relay.modem.on('connection', () => console.log(`swarm peers: ${relay.modem.connectionCount}`))
  relay.server.on('rejected', (reason, ip) => console.log(`refused ${ip}: ${reason}`))
  const stop = () => {
    relay.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

main().catch((err: Error) => {
  console.error(`picostack-relay: ${err.message}\n${USAGE}`)
  process.exit(2)
})
