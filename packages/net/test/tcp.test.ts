import { describe, expect, it } from 'vitest'
import { codeOf, conversationSuite, enc } from './conversation.ts'
import { tcpPair } from './transports.ts'

let seed = 1
conversationSuite('TCP 127.0.0.1 with chunk chaos', (options) => tcpPair(options, seed++), false)

describe('streamWire limits', () => {
  it('fails only an oversize outgoing message with NET_FRAME_TOO_LARGE', async () => {
    const { a, b, teardown } = await tcpPair({ maxFrameBytes: 1024 })
    b.open((msg, answer) => answer?.(msg.length > 10 ? new Uint8Array(2000) : msg))
    a.open(() => {})
    expect(await codeOf(a.postMessage(new Uint8Array(1025), true))).toBe('NET_FRAME_TOO_LARGE')
    expect(await codeOf(a.postMessage(new Uint8Array(1025)))).toBe('NET_FRAME_TOO_LARGE')
    // b's reply is too large for the frame limit: the request fails, the wire stays up
    expect(await codeOf(a.postMessage(new Uint8Array(1024), true))).toBe('NET_REMOTE_ERROR')
    expect((await a.postMessage(enc('small'), true))[0]).toEqual(enc('small'))
    expect(a.isClosed || b.isClosed).toBe(false)
    await teardown()
  })
})
