/**
 * Issue 16, point 3: hostile signalling. Malformed, oversized and flooding signals get
 * typed errors (and strikes); a peer asking to be connected to 1,000 others is refused past
 * `maxTargetsPerPeer`; hostile introducers cannot make a kernel open more than its caps of
 * pending links.
 */
import type { RtcPeerConnectionConstructor } from '@picostack/net'
import { encode } from 'cborg'
import { afterEach, describe, expect, it } from 'vitest'
import { DEFAULT_SIGNAL_LIMITS } from '../src/index.ts'
import type { CounterKernel } from './helpers.ts'
import { bootKernel, FakePeerConnection, SignalPeer, until } from './signal-helpers.ts'

const kernels: CounterKernel[] = []
afterEach(async () => {
  for (const kernel of kernels.splice(0)) await kernel.close()
})

async function kernel(options: Parameters<typeof bootKernel>[1] = {}) {
  const k = await bootKernel(false, options)
  kernels.push(k)
  return k
}

async function attacker(target: CounterKernel): Promise<SignalPeer> {
  const peer = new SignalPeer(target.spawnWire())
  await peer.hello()
  await until(() => target.peers.length > 0)
  return peer
}

const randomId = () => crypto.getRandomValues(new Uint8Array(16))
const offer = { type: 'offer', sdp: 'v=0 hostile' } as const

describe('hostile signalling', () => {
  it('a malformed signal gets KERNEL_PROTOCOL, an oversized one KERNEL_TOO_LARGE', async () => {
    const target = await kernel()
    const evil = await attacker(target)
    await evil.signal(new Uint8Array([0xff, 0x00])) // not CBOR
    await evil.signal(encode([99])) // unknown kind
    await evil.signal(encode([3, new Uint8Array(15), [1, 'sdp']])) // short node id
    await evil.signal(encode([3, randomId(), [3, 'candidate', 7, 0]])) // sdpMid not text
    await evil.signal(encode([3, randomId(), [1, 'x'.repeat(20_000)]])) // sdp too long
    await evil.signal(new Uint8Array(DEFAULT_SIGNAL_LIMITS.maxSignalBytes + 1))
    await evil.signal(encode([2, Array.from({ length: 65 }, randomId)])) // 65 > 64 introductions
    expect(evil.errors).toEqual([
      'KERNEL_PROTOCOL',
      'KERNEL_PROTOCOL',
      'KERNEL_PROTOCOL',
      'KERNEL_PROTOCOL',
      'KERNEL_TOO_LARGE', // cut at the size check: 20 000 characters > 16 KiB
      'KERNEL_TOO_LARGE',
      'KERNEL_TOO_LARGE',
    ])
    expect(target.peers.length).toBe(1) // 7 strikes, under the 10 that disconnect
  })

  it('a flood of signals gets KERNEL_FLOOD past the burst, then the peer is disconnected', async () => {
    const target = await kernel()
    const evil = await attacker(target)
    const { signalBurst } = DEFAULT_SIGNAL_LIMITS
    for (let i = 0; i < signalBurst; i++) await evil.signal({ kind: 'direct' })
    expect(evil.errors).toEqual([])
    for (let i = 0; i < 20; i++) await evil.signal({ kind: 'direct' }).catch(() => {})
    expect(evil.errors.slice(0, 10)).toEqual(Array(10).fill('KERNEL_FLOOD'))
    expect(evil.errors[10]).toBe('KERNEL_MISBEHAVING')
    expect(evil.plug.isClosed).toBe(true)
    await until(() => target.peers.length === 0)
  })

  it('a peer asking to reach 1,000 others is refused past maxTargetsPerPeer', async () => {
    const introducer = await kernel({ signal: { limits: { signalBurst: 5000 } } })
    const evil = await attacker(introducer)
    for (let i = 0; i < 1000 && !evil.plug.isClosed; i++) {
      await evil.signal({ kind: 'forward', to: randomId(), rtc: offer }).catch(() => {})
    }
    const { maxTargetsPerPeer } = DEFAULT_SIGNAL_LIMITS
    // The first 32 are answered (nobody by that id here), the rest refused with strikes.
    expect(evil.forwarded.map((f) => f.rtc)).toEqual(
      Array(maxTargetsPerPeer).fill({ type: 'refused', code: 'KERNEL_NO_ROUTE' }),
    )
    expect(evil.errors).toEqual([...Array(10).fill('KERNEL_TOO_MANY_LINKS'), 'KERNEL_MISBEHAVING'])
    expect(evil.plug.isClosed).toBe(true)
  })

  it('the same target again is not a new one: an honest exchange stays under the cap', async () => {
    const introducer = await kernel({ signal: { limits: { maxTargetsPerPeer: 2 } } })
    const evil = await attacker(introducer)
    const [one, two, three] = [randomId(), randomId(), randomId()]
    for (const to of [one, two, one, two, one])
      await evil.signal({ kind: 'forward', to, rtc: offer })
    expect(evil.errors).toEqual([])
    await evil.signal({ kind: 'forward', to: three, rtc: offer })
    expect(evil.errors).toEqual(['KERNEL_TOO_MANY_LINKS'])
  })

  it('a hostile introducer listing thousands of peers: the kernel keeps the latest list, bounded', async () => {
    FakePeerConnection.created = 0
    FakePeerConnection.open = 0
    const target = await bootKernel(false, {
      signal: {
        RTCPeerConnection: FakePeerConnection as unknown as RtcPeerConnectionConstructor,
        limits: { signalBurst: 5000 },
      },
    })
    kernels.push(target)
    const evil = await attacker(target)
    for (let i = 0; i < 100; i++) {
      await evil.signal({ kind: 'peers', nodeIds: Array.from({ length: 64 }, randomId) })
    }
    const { maxIntroductions, maxPendingPerIntroducer } = DEFAULT_SIGNAL_LIMITS
    // 6,400 ids announced; the view holds the last list and the links being negotiated.
    expect(target.links.value.length).toBeLessThanOrEqual(
      maxIntroductions + maxPendingPerIntroducer,
    )
    expect(FakePeerConnection.created).toBe(maxPendingPerIntroducer)
    expect(evil.forwards.filter(({ rtc }) => rtc.type === 'offer')).toHaveLength(
      maxPendingPerIntroducer,
    )
  })

  it('hostile introducers cannot make a kernel negotiate more than its pending caps', async () => {
    FakePeerConnection.created = 0
    FakePeerConnection.open = 0
    const target = await bootKernel(false, {
      signal: {
        RTCPeerConnection: FakePeerConnection as unknown as RtcPeerConnectionConstructor,
        limits: { signalBurst: 5000, connectTimeoutMs: 300 },
      },
    })
    kernels.push(target)
    const { maxPendingPerIntroducer, maxPendingLinks } = DEFAULT_SIGNAL_LIMITS
    const introducers: SignalPeer[] = []
    for (let n = 0; n < 3; n++) {
      const evil = await attacker(target)
      introducers.push(evil)
      for (let i = 0; i < 1000; i++) {
        await evil.signal({ kind: 'forwarded', from: randomId(), rtc: offer })
      }
    }
    expect(FakePeerConnection.created).toBe(maxPendingLinks) // 4 + 4 + 0
    expect(FakePeerConnection.open).toBe(maxPendingLinks)
    const refusals = (peer: SignalPeer, code = 'KERNEL_TOO_MANY_LINKS') =>
      peer.forwards.filter(({ rtc }) => rtc.type === 'refused' && rtc.code === code)
    await until(() => introducers[0]!.forwards.some(({ rtc }) => rtc.type === 'answer'))
    expect(refusals(introducers[0]!)).toHaveLength(1000 - maxPendingPerIntroducer)
    expect(refusals(introducers[2]!).length).toBe(1000)
    expect(introducers.flatMap((peer) => peer.errors)).toEqual([]) // refusals are not strikes
    // The pending links time out; then offers are taken again, still within the caps.
    await until(() => FakePeerConnection.open === 0, 5000)
    expect(target.links.value).toEqual([]) // failures of peers nobody introduced are not kept
    // Each link that timed out was reported to the peer through its introducer, once.
    for (const [n, opened] of [maxPendingPerIntroducer, maxPendingPerIntroducer, 0].entries()) {
      await until(() => refusals(introducers[n]!, 'NET_TIMEOUT').length === opened, 5000)
    }
    await introducers[2]!.signal({ kind: 'forwarded', from: randomId(), rtc: offer })
    expect(FakePeerConnection.created).toBe(maxPendingLinks + 1)
  })
})
