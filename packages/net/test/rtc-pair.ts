/** Two RtcPeers over node-datachannel on 127.0.0.1, signalling through a test callback. */
import { RTCPeerConnection } from 'node-datachannel/polyfill'
import {
  picoWire,
  RtcPeer,
  type RtcPeerConnectionConstructor,
  type RtcPeerOptions,
  type RtcSignal,
  type RtcWireOptions,
  rtcWire,
} from '../src/index.ts'
import type { Pair } from './conversation.ts'

/** node-datachannel's constructor, bound to loopback (this machine has no other interface). */
export const NodeRTCPeerConnection: RtcPeerConnectionConstructor = RTCPeerConnection

/** Options every test peer shares: node-datachannel on 127.0.0.1, no ICE servers. */
export const LOOPBACK: Pick<RtcPeerOptions, 'RTCPeerConnection' | 'configuration'> = {
  RTCPeerConnection: NodeRTCPeerConnection,
  configuration: { bindAddress: '127.0.0.1' },
}

/** Two connected peers whose signals cross in a later macrotask (as over a network). */
export function peerPair(extra: Partial<RtcPeerOptions> = {}): {
  offerer: RtcPeer
  answerer: RtcPeer
} {
  const deliver = (to: () => RtcPeer) => (signal: RtcSignal) =>
    setTimeout(
      () =>
        to()
          .signal(signal)
          .catch(() => {}),
      1,
    )
  const offerer: RtcPeer = new RtcPeer({
    ...LOOPBACK,
    ...extra,
    initiator: true,
    onsignal: deliver(() => answerer),
  })
  const answerer: RtcPeer = new RtcPeer({
    ...LOOPBACK,
    ...extra,
    initiator: false,
    onsignal: deliver(() => offerer),
  })
  return { offerer, answerer }
}

/** App plugs a and b talking over a WebRTC data channel between two node-datachannel peers. */
export async function rtcPair(options: RtcWireOptions = {}): Promise<Pair> {
  const [a, aTransport] = picoWire(options)
  const [b, bTransport] = picoWire(options)
  const { offerer, answerer } = peerPair()
  rtcWire(aTransport, offerer.channel, options)
  rtcWire(bTransport, answerer.channel, options)
  await Promise.all([offerer.opened, answerer.opened])
  return {
    a,
    b,
    async teardown() {
      a.close()
      b.close()
      offerer.close()
      answerer.close()
    },
  }
}
