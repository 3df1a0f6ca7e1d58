/**
 * Issue 16, point 2 in Node: two kernels meet through a third (an introducer, as the relay
 * is), open a direct WebRTC link over node-datachannel, and keep syncing after the
 * introducer is gone.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { firewalled } from '../../net/test/rtc-firewall.ts'
import { type KernelError, type SignalLimits, SimpleKernel } from '../src/index.ts'
import type { CounterKernel } from './helpers.ts'
import { bootKernel, LOOPBACK_SIGNAL, NodeRTCPeerConnection, until } from './signal-helpers.ts'

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

  /**
   * Alice behind a firewall that passes no packet (no candidate pair forms, ever, or for her
   * first `walledConnections`; she gives up after 1 s), bob on the loopback (he would wait
   * 15 s), both joined to an introducer; no retries unless `limits` asks for them.
   * `seen(kernel)` is every state `kernel` listed for the other, in order, after the
   * `relayed` the answering side shows until the offer comes.
   */
  async function firewalledPair(limits: Partial<SignalLimits> = {}, walledConnections = Infinity) {
    limits = { linkRetries: 0, ...limits }
    const introducer = await bootKernel(false)
    const alice = await bootKernel(true, {
      signal: {
        RTCPeerConnection: firewalled(NodeRTCPeerConnection, walledConnections),
        limits: { connectTimeoutMs: 1000, ...limits },
      },
    })
    const bob = await bootKernel(true, { signal: { limits } })
    kernels.push(introducer, alice, bob)
    const hex = (kernel: CounterKernel) => Buffer.from(kernel.nodeId).toString('hex')
    const history = new Map<CounterKernel, string[]>()
    const watch = (kernel: CounterKernel, id: () => string) => {
      const states: string[] = []
      history.set(kernel, states)
      kernel.links.subscribe((links) => {
        const state = links.find((l) => l.id === id())?.state
        if (state && states.at(-1) !== state) states.push(state)
      })
    }
    watch(alice, () => hex(bob))
    watch(bob, () => hex(alice))
    alice.spawnWire()(introducer.spawnWire())
    bob.spawnWire()(introducer.spawnWire())
    /** A third kernel that takes direct links joins: a new introduction round for all. */
    const carolJoins = async () => {
      const carol = await bootKernel(true)
      kernels.push(carol)
      carol.spawnWire()(introducer.spawnWire())
      await until(() => alice.links.value.some((l) => l.id === hex(carol)))
      return carol
    }
    return {
      introducer,
      alice,
      bob,
      hex,
      seen: (k: CounterKernel) => {
        const states = history.get(k)!
        return states[0] === 'relayed' ? states.slice(1) : states
      },
      carolJoins,
    }
  }

  it('a link that cannot connect ends failed with a typed reason on both sides; blocks still flow through the introducer', async () => {
    const { introducer, alice, bob, hex, seen, carolJoins } = await firewalledPair()
    const failedOf = (kernel: CounterKernel, id: string) =>
      kernel.links.value.find((l) => l.id === id && l.state === 'failed')
    await until(() => failedOf(alice, hex(bob)) !== undefined)
    expect(alice.links.value).toEqual([
      {
        id: hex(bob),
        state: 'failed',
        via: hex(introducer),
        failure: { code: 'NET_TIMEOUT', message: 'data channel not open within 1000 ms' },
      },
    ])
    // Bob learns it from alice's refusal, well before its own 15 s.
    await until(() => failedOf(bob, hex(alice)) !== undefined, 5000)
    expect(bob.links.value).toEqual([
      {
        id: hex(alice),
        state: 'failed',
        via: hex(introducer),
        failure: { code: 'KERNEL_REMOTE_ERROR', message: 'link refused: NET_TIMEOUT' },
      },
    ])
    expect(alice.peers.map((p) => p.id)).toEqual([hex(introducer)])

    await alice.count(1)
    await bob.count(2)
    await until(() => alice.tally.blocks === 2 && bob.tally.blocks === 2)

    // A new introduction round within failedLinkRetryMs (60 s) does not try them again.
    await carolJoins()
    await new Promise((resolve) => setTimeout(resolve, 1500)) // past a try's 1 s
    expect(seen(alice)).toEqual(['connecting', 'failed'])
    expect(seen(bob)).toEqual(['connecting', 'failed'])

    // The introducer gone, nothing links them: the failure is forgotten with the introduction.
    await introducer.close()
    const lists = (kernel: CounterKernel, other: CounterKernel) =>
      kernel.links.value.some((l) => l.id === hex(other))
    await until(() => !lists(alice, bob) && !lists(bob, alice))
  }, 30_000)

  it('past failedLinkRetryMs, a new introduction tries a failed peer again', async () => {
    const { alice, bob, seen, carolJoins } = await firewalledPair({ failedLinkRetryMs: 1 })
    await until(() => seen(alice).at(-1) === 'failed' && seen(bob).at(-1) === 'failed', 5000)
    await carolJoins()
    await until(() => [...seen(alice), ...seen(bob)].filter((s) => s === 'failed').length === 4)
    expect(seen(alice)).toEqual(['connecting', 'failed', 'connecting', 'failed'])
    expect(seen(bob)).toEqual(['connecting', 'failed', 'connecting', 'failed'])
    expect(
      alice.links.value.find((l) => l.id === Buffer.from(bob.nodeId).toString('hex'))?.failure
        ?.code,
    ).toBe('NET_TIMEOUT')
  }, 30_000)

  it('a link that fails on the way is tried again by the offering side, linkRetries times', async () => {
    const { alice, bob, seen } = await firewalledPair({ linkRetries: 2, linkRetryDelayMs: 50 })
    const tries = ['connecting', 'failed', 'connecting', 'failed', 'connecting', 'failed']
    await until(() => seen(alice).length === 6 && seen(bob).length === 6, 15_000)
    await new Promise((resolve) => setTimeout(resolve, 1500)) // past another try's 1 s
    expect(seen(alice)).toEqual(tries)
    expect(seen(bob)).toEqual(tries)
  }, 30_000)

  it('a path that fails once links on a retry', async () => {
    // On a loaded machine an unwalled try can also run out of time: alice waits 2 s per
    // try and has three retries; her first try always fails.
    const limits = { linkRetries: 3, linkRetryDelayMs: 50, connectTimeoutMs: 2000 }
    const { alice, bob, seen, hex } = await firewalledPair(limits, 1)
    await until(() => seen(alice).at(-1) === 'direct' && seen(bob).at(-1) === 'direct', 25_000)
    for (const kernel of [alice, bob]) {
      expect(seen(kernel).slice(0, 3)).toEqual(['connecting', 'failed', 'connecting'])
    }
    await until(() => alice.peers.some((p) => p.id === hex(bob))) // its session's hello
  }, 40_000)
})

describe('ICE configuration', () => {
  it.each([
    ['a scheme other than stun:, turn:, turns:', [{ urls: 'https://turn.example.org' }]],
    ['a TURN server without credentials', [{ urls: 'turn:turn.example.org:3478' }]],
    ['a TURN server without credential', [{ urls: 'turns:turn.example.org', username: 'u' }]],
    ['"//" after the scheme', [{ urls: 'stun://stun.example.org:3478' }]],
  ])(
    'new SimpleKernel refuses %s with KERNEL_INVALID_INPUT (cause NET_INVALID_INPUT)',
    (_, iceServers) => {
      let err: KernelError | undefined
      try {
        new SimpleKernel(undefined, { signal: { ...LOOPBACK_SIGNAL, iceServers } })
      } catch (caught) {
        err = caught as KernelError
      }
      expect(err?.code).toBe('KERNEL_INVALID_INPUT')
      expect((err?.cause as { code?: string } | undefined)?.code).toBe('NET_INVALID_INPUT')
    },
  )

  it('refuses iceTransportPolicy relay without TURN, and iceServers inside rtcConfiguration', () => {
    const codeOf = (options: ConstructorParameters<typeof SimpleKernel>[1]) => {
      try {
        void new SimpleKernel(undefined, options).close()
      } catch (err) {
        return (err as KernelError).code
      }
      return undefined
    }
    const stun = [{ urls: 'stun:stun.example.org:3478' }]
    expect(
      codeOf({ signal: { iceServers: stun, rtcConfiguration: { iceTransportPolicy: 'relay' } } }),
    ).toBe('KERNEL_INVALID_INPUT')
    expect(codeOf({ signal: { rtcConfiguration: { iceServers: stun } } })).toBe(
      'KERNEL_INVALID_INPUT',
    )
    expect(codeOf({ signal: { ...LOOPBACK_SIGNAL, iceServers: stun } })).toBeUndefined()
  })
})
