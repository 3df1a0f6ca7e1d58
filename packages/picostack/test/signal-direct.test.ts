/**
 * Issue 16, point 2 in Node: two kernels meet through a third (an introducer, as the relay
 * is), open a direct WebRTC link over node-datachannel, and keep syncing after the
 * introducer is gone.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { CounterKernel } from './helpers.ts'
import { bootKernel, until } from './signal-helpers.ts'

describe('direct links through an introducer (node-datachannel, 127.0.0.1)', () => {
  const kernels: CounterKernel[] = []
  afterEach(async () => {
    for (const kernel of kernels.splice(0)) await kernel.close()
  })

  it('two kernels introduced by a third link directly and sync both ways once it is gone', async () => {
    const introducer = await bootKernel(false)
    const alice = await bootKernel(true)
    const bob = await bootKernel(true)
    kernels.push(introducer, alice, bob)
    alice.spawnWire()(introducer.spawnWire())
    bob.spawnWire()(introducer.spawnWire())

    const states = (kernel: CounterKernel) => kernel.links.value.map((l) => [l.id, l.state])
    await until(() => alice.peers.length === 2 && bob.peers.length === 2)
    const aliceId = Buffer.from(alice.nodeId).toString('hex')
    const bobId = Buffer.from(bob.nodeId).toString('hex')
    await until(() => states(alice).some(([, s]) => s === 'direct'))
    expect(states(alice)).toEqual([[bobId, 'direct']])
    await until(() => states(bob).some(([, s]) => s === 'direct'))
    expect(states(bob)).toEqual([[aliceId, 'direct']])
    expect(alice.peers.map((p) => p.id).sort()).toEqual(
      [bobId, Buffer.from(introducer.nodeId).toString('hex')].sort(),
    )
    // The introducer takes no direct links: it lists nobody to itself.
    expect(introducer.links.value).toEqual([])

    await alice.count(1)
    await until(() => bob.tally.blocks === 1)
    await introducer.close()
    await until(() => alice.peers.length === 1 && bob.peers.length === 1)
    expect(alice.peers[0]!.id).toBe(bobId)

    await alice.count(2)
    await bob.count(3)
    await until(() => alice.tally.blocks === 3 && bob.tally.blocks === 3)
    expect(alice.tally).toEqual(bob.tally)
    expect(states(alice)).toEqual([[bobId, 'direct']])
  }, 30_000)

  it('maxDirectLinks caps open links: past it a peer stays relayed', async () => {
    const introducer = await bootKernel(false)
    const alice = await bootKernel(true, { signal: { limits: { maxDirectLinks: 1 } } })
    const bob = await bootKernel(true)
    const carol = await bootKernel(true)
    kernels.push(introducer, alice, bob, carol)
    for (const kernel of [alice, bob, carol]) kernel.spawnWire()(introducer.spawnWire())
    const count = (kernel: CounterKernel, state: string) =>
      kernel.links.value.filter((l) => l.state === state).length
    await until(() => count(bob, 'direct') >= 1 && count(carol, 'direct') >= 1)
    await until(() => count(alice, 'direct') === 1 && count(alice, 'relayed') === 1)
    await new Promise((resolve) => setTimeout(resolve, 500)) // nothing more opens
    expect(count(alice, 'direct')).toBe(1)
    expect(alice.peers.length).toBe(2) // the introducer and one direct peer
    expect(bob.peers.length + carol.peers.length).toBe(2 + 2 + 1) // each other, one has alice
  }, 30_000)

  it('a kernel without RTCPeerConnection stays relayed: it is not introduced', async () => {
    const introducer = await bootKernel(false)
    const alice = await bootKernel(true)
    const plain = await bootKernel(false)
    kernels.push(introducer, alice, plain)
    alice.spawnWire()(introducer.spawnWire())
    plain.spawnWire()(introducer.spawnWire())
    await until(() => alice.peers.length === 1 && plain.peers.length === 1)
    await plain.count(5)
    await until(() => alice.tally.blocks === 1) // through the introducer's store
    await new Promise((resolve) => setTimeout(resolve, 1200)) // past one announce round
    expect(alice.links.value).toEqual([])
    expect(alice.peers.length).toBe(1)
  }, 30_000)
})
