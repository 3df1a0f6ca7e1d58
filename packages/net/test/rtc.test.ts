import { describe, expect, it } from 'vitest'
import { codeOf, conversationSuite, enc } from './conversation.ts'
import { firewalled } from './rtc-firewall.ts'
import { NodeRTCPeerConnection, peerPair, rtcPair } from './rtc-pair.ts'

conversationSuite('WebRTC (node-datachannel) 127.0.0.1', (options) => rtcPair(options), false)

describe('rtcWire over node-datachannel', () => {
  it('carries a 1 MiB frame in 16 KiB messages and fails only an oversize send', async () => {
    const { a, b, teardown } = await rtcPair({ maxFrameBytes: 1024 * 1024 })
    b.open((msg, answer) => answer?.(msg.subarray(0, 8)))
    a.open(() => {})
    const big = new Uint8Array(1024 * 1024).map((_, i) => i * 7)
    const [reply] = await a.postMessage(big, true)
    expect(reply).toEqual(big.subarray(0, 8))
    expect(await codeOf(a.postMessage(new Uint8Array(1024 * 1024 + 1), true))).toBe(
      'NET_FRAME_TOO_LARGE',
    )
    expect((await a.postMessage(enc('still up'), true))[0]).toEqual(enc('still up'))
    await teardown()
  })
})

describe('RtcPeer that cannot connect (node-datachannel, 127.0.0.1)', () => {
  it('closes both sides with NET_TIMEOUT when no candidate pair forms within connectTimeoutMs', async () => {
    const start = Date.now()
    const { offerer, answerer } = peerPair({
      RTCPeerConnection: firewalled(NodeRTCPeerConnection),
      connectTimeoutMs: 1000,
    })
    const reasons = await Promise.all([offerer.closed, answerer.closed])
    expect(reasons.map((reason) => (reason as { code?: string }).code)).toEqual([
      'NET_TIMEOUT',
      'NET_TIMEOUT',
    ])
    expect(Date.now() - start).toBeGreaterThanOrEqual(990)
    expect(await codeOf(offerer.opened)).toBe('NET_DISCONNECTED')
    expect(offerer.channel.readyState).not.toBe('open')
  })
})
