/**
 * What it must show, item 4: a short-lived task disappears from every peer's state and
 * repo, and peers that were offline when it expired do not bring it back when they
 * reconnect, not even one whose clock runs behind and still holds the task.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fromHex } from '@picostack/kernel'
import { Modem56 } from '@picostack/modem'
import createTestnet, { type Testnet } from 'hyperdht/testnet.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TodoKernel, type TodoOptions } from '../src/kernel.ts'
import { until } from './until.ts'

const TOPIC = 'expiry'
const TTL_MS = 2500
/** An hour behind: for this peer's store the task has not expired yet. */
const LAG_MS = 3_600_000

interface Peer {
  kernel: TodoKernel
  modem: Modem56
}

describe('expiry across peers', () => {
  let testnet: Testnet
  let dir: string
  const online: Peer[] = []

  beforeAll(async () => {
    testnet = await createTestnet(3)
    dir = await mkdtemp(join(tmpdir(), 'todo-expiry-'))
  })

  afterAll(async () => {
    for (const { modem } of online) await modem.destroy()
    for (const { kernel } of online) await kernel.close()
    await testnet.destroy()
    await rm(dir, { recursive: true, force: true })
  })

  async function connect(name: string, options: TodoOptions = {}): Promise<Peer> {
    const kernel = new TodoKernel(join(dir, name), options)
    await kernel.boot()
    const modem = new Modem56({ bootstrap: testnet.bootstrap, host: '127.0.0.1' })
    expect(modem.swarm.dht.bootstrapNodes.every((n) => n.host === '127.0.0.1')).toBe(true)
    await modem.join(TOPIC, () => kernel.spawnWire())
    const peer = { kernel, modem }
    online.push(peer)
    return peer
  }

  async function disconnect(peer: Peer): Promise<void> {
    online.splice(online.indexOf(peer), 1)
    await peer.modem.destroy()
    await peer.kernel.close()
  }

  /** The peer holds the task (read from disk: the app's kernels keep no snapshot). */
  const has = async (kernel: TodoKernel, id: string) => (await kernel.tasks.get(id)) !== undefined
  /** Every peer holds (or, with `held` false, none holds) the task. */
  const every = async (peers: Peer[], id: string, held = true) =>
    (await Promise.all(peers.map((p) => has(p.kernel, id)))).every((h) => h === held)

  /** The task's chain is on this peer's disk. */
  const onDisk = async (kernel: TodoKernel, id: string) =>
    (await kernel.repo.summary(fromHex(id))) !== undefined

  it('forgets the task everywhere; offline peers do not resurrect it', async () => {
    const [alice, bob, carol, dave] = [
      await connect('alice'),
      await connect('bob'),
      await connect('carol'),
      await connect('dave'),
    ] as [Peer, Peer, Peer, Peer]
    const all = [alice, bob, carol, dave]
    const id = await alice.kernel.addTask('flash sale', { ttlMs: TTL_MS })
    const keep = await bob.kernel.addTask('long lived')
    await until(async () => (await every(all, id)) && (await every(all, keep)))
    for (const p of all) expect(await onDisk(p.kernel, id)).toBe(true)

    // carol and dave go offline holding the task.
    await disconnect(carol)
    await disconnect(dave)
    await until(() => every([alice, bob], id, false))
    // State forgets first; the chain leaves the disk in the same collection pass.
    await until(async () => !(await onDisk(alice.kernel, id)) && !(await onDisk(bob.kernel, id)))

    // carol comes back with a true clock: her store forgets the task on boot.
    const carolAgain = await connect('carol')
    expect(await has(carolAgain.kernel, id)).toBe(false)
    await until(async () => !(await onDisk(carolAgain.kernel, id)))

    // dave comes back with a clock an hour behind (his blocks' dates and his store alike):
    // for him the task is live, and he offers it; nobody else takes it back.
    const slow = { now: () => Date.now() - LAG_MS, setTimeout, clearTimeout }
    const daveAgain = await connect('dave', { clock: slow })
    expect(await has(daveAgain.kernel, id)).toBe(true)
    expect(await onDisk(daveAgain.kernel, id)).toBe(true)
    const others = [alice, bob, carolAgain]
    // Connected to all three before the marker, so he pushes it to each himself (a block
    // made while a peer is still connecting may reach it through another peer instead).
    await until(
      () => daveAgain.kernel.peers.length === 3 && others.every((p) => p.kernel.peers.length === 3),
    )
    const marker = await daveAgain.kernel.addTask('dave is back')
    await until(() => every(others, marker))
    // He did send it: one expired block and one marker block to each of the three.
    await until(() => daveAgain.kernel.peers.every((peer) => peer.stats.blocksSent >= 2))
    expect(daveAgain.kernel.peers).toHaveLength(3)
    for (const p of others) {
      expect(await has(p.kernel, id)).toBe(false)
      expect(await onDisk(p.kernel, id)).toBe(false)
      expect(await has(p.kernel, keep)).toBe(true)
    }
  }, 60_000)
})
