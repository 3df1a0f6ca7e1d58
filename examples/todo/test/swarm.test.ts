/**
 * What it must show, item 3: ten kernels in one process, each with its own modem, on one
 * topic of a local testnet. All converge; half leave, more tasks are made on both sides,
 * they rejoin and all converge again.
 */
import { Modem56 } from '@picostack/modem'
import createTestnet, { type Testnet } from 'hyperdht/testnet.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TodoKernel } from '../src/kernel.ts'
import { until } from './until.ts'

const TOPIC = 'ten-kernels'

interface Node {
  kernel: TodoKernel
  modem: Modem56
}

/** The tasks a kernel holds, as comparable text. */
const view = (kernel: TodoKernel) =>
  kernel
    .list()
    .map((t) => `${t.id}:${t.status}`)
    .join(',')

const converged = (nodes: Node[], count: number) =>
  nodes.every((n) => n.kernel.list().length === count && view(n.kernel) === view(nodes[0]!.kernel))

describe('ten kernels on one topic', () => {
  let testnet: Testnet
  const nodes: Node[] = []

  beforeAll(async () => {
    testnet = await createTestnet(3)
    for (let i = 0; i < 10; i++) {
      const kernel = new TodoKernel(undefined, { snapshot: true }) // view() reads list()
      await kernel.boot()
      const modem = new Modem56({ bootstrap: testnet.bootstrap, host: '127.0.0.1' })
      // The guard: this DHT knows no bootstrap node outside 127.0.0.1.
      expect(modem.swarm.dht.bootstrapNodes.every((n) => n.host === '127.0.0.1')).toBe(true)
      nodes.push({ kernel, modem })
    }
  })

  afterAll(async () => {
    for (const { modem } of nodes) await modem.destroy()
    for (const { kernel } of nodes) await kernel.close()
    await testnet.destroy()
  })

  it('converges, converges again after half of them left and rejoined', async () => {
    await Promise.all(nodes.map(({ kernel }, i) => kernel.addTask(`task of ${i}`)))
    await Promise.all(nodes.map(({ kernel, modem }) => modem.join(TOPIC, () => kernel.spawnWire())))
    await until(() => converged(nodes, 10), 60_000)

    const leaving = nodes.slice(5)
    const staying = nodes.slice(0, 5)
    await Promise.all(leaving.map(({ modem }) => modem.leave(TOPIC)))
    await until(() => leaving.every(({ kernel }) => kernel.peers.length === 0))
    await until(() => staying.every(({ kernel }) => kernel.peers.length === 4))

    // Both halves keep working apart.
    const firstId = staying[0]!.kernel.list()[0]!.id
    await staying[0]!.kernel.complete(firstId)
    await Promise.all(staying.map(({ kernel }, i) => kernel.addTask(`staying ${i}`)))
    await Promise.all(leaving.map(({ kernel }, i) => kernel.addTask(`away ${i}`)))
    await until(() => converged(staying, 15))
    expect(leaving.map(({ kernel }) => kernel.list().length)).toEqual([11, 11, 11, 11, 11])

    await Promise.all(
      leaving.map(({ kernel, modem }) => modem.join(TOPIC, () => kernel.spawnWire())),
    )
    await until(() => converged(nodes, 20), 60_000)
    const titles = nodes[9]!.kernel.list().map((t) => t.title)
    expect(titles.filter((t) => t.startsWith('away'))).toHaveLength(5)
    expect(titles.filter((t) => t.startsWith('staying'))).toHaveLength(5)
    expect(nodes[9]!.kernel.list().find((t) => t.id === firstId)?.status).toBe('done')
  }, 120_000)
})
