import { NetError } from './errors.ts'
import type { RtcConfiguration, RtcIceServer } from './rtc-types.ts'

/**
 * One STUN or TURN URL: `stun:host[:port]` (RFC 7064), `turn:host[:port][?transport=udp|tcp]`
 * or `turns:...` (RFC 7065). The host is a name, an IPv4 address or a bracketed IPv6 one.
 */
const ICE_URL =
  /^(stun|turn|turns):(\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)(?::(\d{1,5}))?(\?transport=(?:udp|tcp))?$/i

function invalid(what: string): NetError {
  return new NetError('NET_INVALID_INPUT', `iceServers: ${what}`)
}

/** Checks one URL; returns its scheme, lower case. */
function checkUrl(url: unknown): string {
  if (typeof url !== 'string') throw invalid('every url must be a string')
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase()
  if (scheme !== 'stun' && scheme !== 'turn' && scheme !== 'turns') {
    throw invalid(`${JSON.stringify(url)}: the scheme must be stun:, turn: or turns:`)
  }
  if (url.slice(scheme.length + 1).startsWith('//')) {
    throw invalid(`${JSON.stringify(url)}: no "//" after the scheme (${scheme}:host:port)`)
  }
  const match = ICE_URL.exec(url)
  if (!match) {
    throw invalid(
      `${JSON.stringify(url)} is not ${scheme}:host[:port]${scheme === 'stun' ? '' : '[?transport=udp|tcp]'}`,
    )
  }
  const port = match[3]
  if (port !== undefined && !(Number(port) >= 1 && Number(port) <= 65535)) {
    throw invalid(`${JSON.stringify(url)}: the port must be 1..65535`)
  }
  if (scheme === 'stun' && match[4]) {
    throw invalid(`${JSON.stringify(url)}: a stun: url takes no ?transport`)
  }
  return scheme
}

/** Checks one server; returns a fresh copy (WebRTC stacks may rewrite what they are given). */
function checkServer(server: unknown, index: number): { server: RtcIceServer; turn: boolean } {
  if (typeof server !== 'object' || server === null) throw invalid(`server ${index} is no object`)
  const { urls, username, credential } = server as Partial<RtcIceServer>
  const list = typeof urls === 'string' ? [urls] : urls
  if (!Array.isArray(list) || list.length === 0) {
    throw invalid(`server ${index}: urls must be a url or a non-empty array of urls`)
  }
  const turn = list.map(checkUrl).some((scheme) => scheme !== 'stun')
  if (turn) {
    if (typeof username !== 'string' || username === '') {
      throw invalid(`server ${index}: a turn: or turns: server needs a username`)
    }
    if (typeof credential !== 'string' || credential === '') {
      throw invalid(`server ${index}: a turn: or turns: server needs a credential`)
    }
  }
  const copy: RtcIceServer = { urls: [...list] }
  if (typeof username === 'string') copy.username = username
  if (typeof credential === 'string') copy.credential = credential
  return { server: copy, turn }
}

/**
 * Checks ICE servers and the rest of an `RTCPeerConnection` configuration, and returns the
 * configuration to construct one with (fresh copies of the servers). What it refuses would
 * otherwise fail late and quietly (a server the stack skips, a link that never connects):
 *
 * - `iceServers` not an array; a server without `urls`; a url whose scheme is not `stun:`,
 *   `turn:` or `turns:`, with `//` after the scheme, or not `scheme:host[:port]` (TURN:
 *   `[?transport=udp|tcp]`, RFC 7064 / RFC 7065);
 * - a `turn:` / `turns:` server without a non-empty `username` and `credential`
 *   (what the W3C WebRTC spec requires of `RTCIceServer`);
 * - `iceServers` inside `configuration` (they go in `iceServers`, or would be dropped);
 * - `iceTransportPolicy` other than `all` / `relay`, or `relay` without a TURN server (no
 *   candidate could ever form).
 *
 * ```ts
 * rtcConfiguration([{ urls: 'turn:turn.example.org:3478', username: 'u', credential: 'p' }])
 * ```
 * @throws NET_INVALID_INPUT for any of the above (the message says which server and why)
 */
export function rtcConfiguration(
  iceServers: readonly RtcIceServer[] = [],
  configuration: Record<string, unknown> = {},
): RtcConfiguration & Record<string, unknown> {
  if (!Array.isArray(iceServers)) throw invalid('must be an array')
  if (typeof configuration !== 'object' || configuration === null) {
    throw new NetError('NET_INVALID_INPUT', 'the RTCPeerConnection configuration must be an object')
  }
  if ('iceServers' in configuration) {
    throw invalid('pass them as iceServers, not inside the other configuration fields')
  }
  const checked = iceServers.map(checkServer)
  const policy = configuration.iceTransportPolicy
  if (policy !== undefined && policy !== 'all' && policy !== 'relay') {
    throw new NetError('NET_INVALID_INPUT', 'iceTransportPolicy must be "all" or "relay"')
  }
  if (policy === 'relay' && !checked.some(({ turn }) => turn)) {
    throw invalid('iceTransportPolicy "relay" needs a turn: or turns: server')
  }
  return { ...configuration, iceServers: checked.map(({ server }) => server) }
}
