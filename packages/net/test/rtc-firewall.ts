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

/**
 * `Base`, firewalled: its connections never find a path to any peer. With `connections`,
 * only that many first connections are walled, and later ones connect as `Base` does (a
 * path that failed once and then works).
 */
export function firewalled(
  Base: RtcPeerConnectionConstructor,
  connections = Infinity,
): RtcPeerConnectionConstructor {
  const Stack = Base as new (configuration: RtcConfiguration) => RtcPeerConnectionLike
  let made = 0
  /** Whether the connection being constructed is walled (its base constructor listens). */
  let constructing = false
  const walls = new WeakMap<object, boolean>()
  const walled = (connection: object) => walls.get(connection) ?? constructing
  return class Firewalled extends Stack {
    constructor(configuration: RtcConfiguration) {
      constructing = made++ < connections
      super(configuration)
      walls.set(this, constructing)
    }
    override async createOffer(): Promise<RtcSessionDescription> {
      const offer = await super.createOffer()
      return walled(this) ? withoutCandidates(offer) : offer
    }
    override async createAnswer(): Promise<RtcSessionDescription> {
      const answer = await super.createAnswer()
      return walled(this) ? withoutCandidates(answer) : answer
    }
    override setRemoteDescription(description: { type: 'offer' | 'answer'; sdp: string }) {
      if (!walled(this)) return super.setRemoteDescription(description)
      return super.setRemoteDescription({
        type: description.type,
        sdp: withoutCandidates(description).sdp ?? '',
      })
    }
    override async addIceCandidate(candidate: RtcIceCandidate): Promise<void> {
      if (!walled(this)) await super.addIceCandidate(candidate)
    }
    // biome-ignore lint/suspicious/noExplicitAny: the listener type of RtcPeerConnectionLike
    override addEventListener(type: string, listener: (event: any) => void): void {
      if (type !== 'icecandidate' || !walled(this)) super.addEventListener(type, listener)
    }
  }
}
