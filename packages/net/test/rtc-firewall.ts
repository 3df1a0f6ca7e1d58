/**
 * A WebRTC peer behind a firewall that lets no packet through, for tests of links that
 * cannot connect: it offers no ICE candidate (none in its SDP, none trickled) and uses none
 * it is given, so no candidate pair ever forms and ICE keeps checking until the connect
 * timeout. Wraps a real stack (node-datachannel's polyfill in the tests).
 */
import type {
  RtcConfiguration,
  RtcIceCandidate,
  RtcPeerConnectionConstructor,
  RtcPeerConnectionLike,
  RtcSessionDescription,
} from '../src/index.ts'

/** `description` without its `a=candidate` lines. */
function withoutCandidates<T extends RtcSessionDescription>(description: T): T {
  const sdp = description.sdp
    ?.split(/\r?\n/)
    .filter((line) => !line.startsWith('a=candidate'))
    .join('\r\n')
  return { ...description, type: description.type, sdp }
}

/** `Base`, firewalled: its connections never find a path to any peer. */
export function firewalled(Base: RtcPeerConnectionConstructor): RtcPeerConnectionConstructor {
  const Stack = Base as new (configuration: RtcConfiguration) => RtcPeerConnectionLike
  return class Firewalled extends Stack {
    override async createOffer(): Promise<RtcSessionDescription> {
      return withoutCandidates(await super.createOffer())
    }
    override async createAnswer(): Promise<RtcSessionDescription> {
      return withoutCandidates(await super.createAnswer())
    }
    override setRemoteDescription(description: { type: 'offer' | 'answer'; sdp: string }) {
      return super.setRemoteDescription({
        type: description.type,
        sdp: withoutCandidates(description).sdp ?? '',
      })
    }
    override async addIceCandidate(_candidate: RtcIceCandidate): Promise<void> {}
    // biome-ignore lint/suspicious/noExplicitAny: the listener type of RtcPeerConnectionLike
    override addEventListener(type: string, listener: (event: any) => void): void {
      if (type !== 'icecandidate') super.addEventListener(type, listener)
    }
  }
}
