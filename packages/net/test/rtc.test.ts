import { describe, expect, it } from 'vitest'
import { codeOf, conversationSuite, enc } from './conversation.ts'
import { rtcPair } from './rtc-pair.ts'

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
