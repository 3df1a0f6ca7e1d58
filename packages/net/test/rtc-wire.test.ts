/** rtcWire and RtcPeer against fakes: chunking, backpressure, bounds and bad signals. */
import { describe, expect, it } from 'vitest'
import { concatBytes } from '../src/bytes.ts'
import {
  encodeFrame,
  FrameDecoder,
  type NetError,
  picoWire,
  RtcPeer,
  type RtcPeerConnectionConstructor,
  rtcWire,
} from '../src/index.ts'
import { codeOf, enc } from './conversation.ts'

/** A data channel driven by the test: records sends, its `bufferedAmount` set by hand. */
class FakeChannel extends EventTarget {
  binaryType = 'blob'
  readyState = 'open'
  bufferedAmount = 0
  bufferedAmountLowThreshold = 0
  sent: Uint8Array[] = []
  send(data: Uint8Array) {
    this.sent.push(data)
    this.bufferedAmount += data.length
  }
  close() {
    this.readyState = 'closed'
    this.dispatchEvent(new Event('close'))
  }
  /** The network took everything: fire `bufferedamountlow`. */
  drain() {
    this.bufferedAmount = 0
    this.dispatchEvent(new Event('bufferedamountlow'))
  }
  deliver(data: unknown) {
    this.dispatchEvent(Object.assign(new Event('message'), { data }))
  }
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0))

describe('rtcWire', () => {
  it('cuts frames into messages of at most maxChunkBytes that reassemble exactly', async () => {
    const [app, transport] = picoWire()
    const channel = new FakeChannel()
    rtcWire(transport, channel, { maxChunkBytes: 1000 })
    expect(channel.binaryType).toBe('arraybuffer')
    app.open(() => {})
    const payloads = [new Uint8Array(2500).fill(1), enc('a'), enc('b'), new Uint8Array(999)]
    await Promise.all(payloads.map((payload) => app.postMessage(payload))) // one turn
    await tick()
    const frameBytes = payloads.reduce(
      (n, payload) => n + encodeFrame({ dstPort: 0, srcPort: 0, flags: 0, payload }).length,
      0,
    )
    expect(channel.sent.map((m) => m.length)).toEqual([1000, 1000, 1000, frameBytes - 3000])
    const frames = new FrameDecoder().push(concatBytes(channel.sent))
    expect(frames.map((f) => f.payload)).toEqual(payloads)
    app.close()
  })

  it('stops at highWaterBytes and resumes on bufferedamountlow', async () => {
    const [app, transport] = picoWire()
    const channel = new FakeChannel()
    rtcWire(transport, channel, { maxChunkBytes: 1000, highWaterBytes: 3000 })
    expect(channel.bufferedAmountLowThreshold).toBe(750)
    app.open(() => {})
    await app.postMessage(new Uint8Array(10_000))
    await tick()
    expect(channel.sent.length).toBe(4) // sent while bufferedAmount <= 3000: 0, 1000, 2000, 3000
    channel.drain()
    expect(channel.sent.length).toBe(8)
    channel.drain()
    channel.drain()
    const frame = encodeFrame({ dstPort: 0, srcPort: 0, flags: 0, payload: new Uint8Array(10_000) })
    expect(concatBytes(channel.sent)).toEqual(frame)
    app.close()
  })

  it('closes with NET_TOO_MANY_PENDING past maxQueuedBytes (the peer does not read)', async () => {
    const [app, transport] = picoWire()
    const channel = new FakeChannel()
    channel.bufferedAmount = 10_000 // full
    rtcWire(transport, channel, { highWaterBytes: 1000, maxQueuedBytes: 5000 })
    app.open(() => {})
    await app.postMessage(new Uint8Array(4000))
    expect(app.isClosed).toBe(false)
    await app.postMessage(new Uint8Array(4000)).catch(() => {})
    expect(((await app.closed) as NetError).code).toBe('NET_TOO_MANY_PENDING')
    expect(channel.readyState).toBe('closed')
  })

  it('closes with NET_MALFORMED on a text message; NET_DISCONNECTED when the channel closes', async () => {
    const [app, transport] = picoWire()
    const channel = new FakeChannel()
    rtcWire(transport, channel)
    app.open(() => {})
    channel.deliver('hello')
    expect(((await app.closed) as NetError).code).toBe('NET_MALFORMED')
    const [other, otherTransport] = picoWire()
    const second = new FakeChannel()
    rtcWire(otherTransport, second)
    other.open(() => {})
    second.close()
    expect(((await other.closed) as NetError).code).toBe('NET_DISCONNECTED')
  })

  it('a channel already closed closes the wire at once', async () => {
    const [app, transport] = picoWire()
    const channel = new FakeChannel()
    channel.readyState = 'closed'
    rtcWire(transport, channel)
    expect(((await app.closed) as NetError).code).toBe('NET_DISCONNECTED')
  })

  it('reads frames split across messages in any way', async () => {
    const [app, transport] = picoWire()
    const channel = new FakeChannel()
    const got: string[] = []
    app.open((msg) => {
      got.push(new TextDecoder().decode(msg))
    })
    rtcWire(transport, channel)
    const bytes = concatBytes(
      ['one', 'two', 'three'].map((t) =>
        encodeFrame({ dstPort: 0, srcPort: 0, flags: 0, payload: enc(t) }),
      ),
    )
    for (let i = 0; i < bytes.length; i += 3) channel.deliver(bytes.slice(i, i + 3).buffer)
    await expect.poll(() => got).toEqual(['one', 'two', 'three'])
    app.close()
  })
})

/** A peer connection that records what RtcPeer asks of it. */
class FakePeerConnection extends EventTarget {
  connectionState = 'new'
  remote: unknown[] = []
  candidates: unknown[] = []
  channel = new FakeChannel()
  createDataChannel() {
    this.channel.readyState = 'connecting'
    return this.channel
  }
  async createOffer() {
    return { type: 'offer', sdp: 'v=0 offer' }
  }
  async createAnswer() {
    return { type: 'answer', sdp: 'v=0 answer' }
  }
  async setLocalDescription() {}
  async setRemoteDescription(description: unknown) {
    this.remote.push(description)
  }
  async addIceCandidate(candidate: unknown) {
    this.candidates.push(candidate)
  }
  close() {
    this.connectionState = 'closed'
  }
}
const Fake = FakePeerConnection as unknown as RtcPeerConnectionConstructor
const candidate = (n: number) =>
  ({ type: 'candidate', candidate: `candidate:${n}`, sdpMid: '0', sdpMLineIndex: 0 }) as const

describe('RtcPeer', () => {
  it('sends its offer, applies the answer, and applies candidates that came before it', async () => {
    const signals: unknown[] = []
    const peer = new RtcPeer({
      RTCPeerConnection: Fake,
      initiator: true,
      onsignal: (s) => signals.push(s),
    })
    await expect.poll(() => signals).toEqual([{ type: 'offer', sdp: 'v=0 offer' }])
    const pc = peer.connection as unknown as FakePeerConnection
    await peer.signal(candidate(1))
    expect(pc.candidates).toEqual([])
    await peer.signal({ type: 'answer', sdp: 'v=0 answer' })
    expect(pc.remote).toEqual([{ type: 'answer', sdp: 'v=0 answer' }])
    expect(pc.candidates).toEqual([{ candidate: 'candidate:1', sdpMid: '0', sdpMLineIndex: 0 }])
    peer.close()
    expect(await codeOf(peer.opened)).toBe('NET_DISCONNECTED')
  })

  it('refuses malformed and out-of-turn signals with NET_MALFORMED, too many candidates with NET_TOO_MANY_PENDING', async () => {
    const peer = new RtcPeer({
      RTCPeerConnection: Fake,
      initiator: false,
      onsignal: () => {},
      maxRemoteCandidates: 2,
    })
    expect(await codeOf(peer.signal({ type: 'answer', sdp: 'x' }))).toBe('NET_MALFORMED') // not ours to get
    expect(await codeOf(peer.signal({ type: 'offer', sdp: 'x'.repeat(16_385) }))).toBe(
      'NET_MALFORMED',
    )
    expect(await codeOf(peer.signal({ type: 'nonsense' } as never))).toBe('NET_MALFORMED')
    expect(await codeOf(peer.signal({ ...candidate(1), sdpMLineIndex: -1 }))).toBe('NET_MALFORMED')
    await peer.signal({ type: 'offer', sdp: 'v=0 offer' })
    expect(await codeOf(peer.signal({ type: 'offer', sdp: 'v=0 again' }))).toBe('NET_MALFORMED')
    await peer.signal(candidate(1))
    await peer.signal(candidate(2))
    expect(await codeOf(peer.signal(candidate(3)))).toBe('NET_TOO_MANY_PENDING')
    peer.close()
    expect(await codeOf(peer.signal(candidate(4)))).toBe('NET_DISCONNECTED')
  })

  it('ICE failed before the channel opened: closed with NET_ICE_FAILED; after: NET_DISCONNECTED', async () => {
    const fail = (peer: RtcPeer) => {
      const pc = peer.connection as unknown as FakePeerConnection
      pc.connectionState = 'failed'
      pc.dispatchEvent(new Event('connectionstatechange'))
    }
    const early = new RtcPeer({ RTCPeerConnection: Fake, initiator: true, onsignal: () => {} })
    fail(early)
    expect(((await early.closed) as NetError).code).toBe('NET_ICE_FAILED')
    expect(await codeOf(early.opened)).toBe('NET_DISCONNECTED')

    const late = new RtcPeer({ RTCPeerConnection: Fake, initiator: true, onsignal: () => {} })
    const channel = (late.connection as unknown as FakePeerConnection).channel
    channel.readyState = 'open'
    channel.dispatchEvent(new Event('open'))
    await late.opened
    fail(late)
    expect(((await late.closed) as NetError).code).toBe('NET_DISCONNECTED')
  })

  it('closes with NET_TIMEOUT when the channel does not open in time', async () => {
    const peer = new RtcPeer({
      RTCPeerConnection: Fake,
      initiator: true,
      onsignal: () => {},
      connectTimeoutMs: 50,
    })
    expect(((await peer.closed) as NetError).code).toBe('NET_TIMEOUT')
    expect((peer.connection as unknown as FakePeerConnection).connectionState).toBe('closed')
  })
})
