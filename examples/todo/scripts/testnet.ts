/**
 * `testnet`: a HyperDHT network of its own on 127.0.0.1, for trying peers on one machine
 * without the public HyperDHT (or the internet). Prints the bootstrap address to give
 * `todo serve --bootstrap`, then runs until Ctrl-C (SIGINT) or SIGTERM.
 *
 *   testnet [--port <port>] [--nodes <count>]
 */
import { parseArgs } from 'node:util'
import createTestnet from 'hyperdht/testnet.js'

/** DHT nodes in the testnet unless `--nodes` says otherwise (hyperdht's own tests use 3 to 10). */
const DEFAULT_NODES = 3

const { values } = parseArgs({
  options: {
    // 0: any free port. A fixed one keeps the same bootstrap address across restarts.
    port: { type: 'string', default: '0' },
    nodes: { type: 'string', default: String(DEFAULT_NODES) },
  },
})
const port = Number(values.port)
const nodes = Number(values.nodes)
if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error('--port: 0 to 65535')
if (!Number.isInteger(nodes) || nodes < 1 || nodes > 100) throw new Error('--nodes: 1 to 100')

const testnet = await createTestnet(nodes, { host: '127.0.0.1', port })
const [first] = testnet.bootstrap
if (!first || testnet.bootstrap.some((node) => node.host !== '127.0.0.1')) {
  await testnet.destroy()
  throw new Error('the testnet must bind 127.0.0.1 only')
}
const bootstrap = `${first.host}:${first.port}`
console.log(`HyperDHT testnet of ${nodes} nodes on ${bootstrap} (this machine only)`)
console.log(`bootstrap ${bootstrap}`)
console.log('In other terminals, one folder per peer:')
for (const peer of ['alice', 'bob']) {
  const options = `--topic our-flat --bootstrap ${bootstrap} --data ./${peer}`
  console.log(`  pnpm --filter todo todo serve ${options}`)
}
console.log('Ctrl-C stops it.')

let stopping = false
const stop = async () => {
  if (stopping) return
  stopping = true
  await testnet.destroy()
  process.exit(0)
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
