/** ICE configuration is checked before any connection exists: every mistake has a code. */
import { describe, expect, it } from 'vitest'
import { type RtcIceServer, RtcPeer, rtcConfiguration } from '../src/index.ts'
import { LOOPBACK } from './rtc-pair.ts'

const turn = { username: 'user', credential: 'secret' }

const codeOfCall = (fn: () => unknown) => {
  try {
    fn()
  } catch (err) {
    return (err as { code?: string }).code
  }
  return undefined
}

describe('rtcConfiguration', () => {
  it('takes stun:, turn: and turns: urls with ports, IPv6 hosts and transports', () => {
    const servers: RtcIceServer[] = [
      { urls: 'stun:stun.example.org:3478' },
      { urls: ['stun:127.0.0.1', 'STUN:[::1]:19302'] },
      { urls: 'turn:turn.example.org:3478?transport=tcp', ...turn },
      { urls: ['turns:turn.example.org:5349', 'turn:10.0.0.1?transport=udp'], ...turn },
    ]
    const config = rtcConfiguration(servers, { bindAddress: '127.0.0.1' })
    expect(config).toEqual({
      bindAddress: '127.0.0.1',
      iceServers: [
        { urls: ['stun:stun.example.org:3478'] },
        { urls: ['stun:127.0.0.1', 'STUN:[::1]:19302'] },
        { urls: ['turn:turn.example.org:3478?transport=tcp'], ...turn },
        { urls: ['turns:turn.example.org:5349', 'turn:10.0.0.1?transport=udp'], ...turn },
      ],
    })
    // Fresh copies: a stack that rewrites its configuration leaves ours alone.
    expect(config.iceServers[2]).not.toBe(servers[2])
    expect(rtcConfiguration()).toEqual({ iceServers: [] })
    expect(
      rtcConfiguration([{ urls: 'turn:t.example.org', ...turn }], { iceTransportPolicy: 'relay' })
        .iceTransportPolicy,
    ).toBe('relay')
  })

  it.each([
    ['a scheme that is not stun/turn/turns', [{ urls: 'http://stun.example.org' }]],
    ['stuns: (not taken)', [{ urls: 'stuns:stun.example.org' }]],
    ['"//" after the scheme', [{ urls: 'stun://stun.example.org:3478' }]],
    ['no scheme', [{ urls: 'stun.example.org:3478' }]],
    ['an empty host', [{ urls: 'stun:' }]],
    ['a port out of range', [{ urls: 'stun:stun.example.org:70000' }]],
    ['a path', [{ urls: 'turn:turn.example.org:3478/x', ...turn }]],
    ['an unknown transport', [{ urls: 'turn:turn.example.org?transport=sctp', ...turn }]],
    ['a transport on stun:', [{ urls: 'stun:stun.example.org?transport=udp' }]],
    ['turn: without username', [{ urls: 'turn:turn.example.org', credential: 'x' }]],
    ['turns: without credential', [{ urls: 'turns:turn.example.org', username: 'x' }]],
    [
      'turn: with an empty username',
      [{ urls: 'turn:t.example.org', username: '', credential: 'x' }],
    ],
    [
      'a TURN url among stun ones, no credentials',
      [{ urls: ['stun:s.example.org', 'turn:t.example.org'] }],
    ],
    ['no urls', [{}]],
    ['an empty urls list', [{ urls: [] }]],
    ['a url that is no string', [{ urls: [42] }]],
    ['a server that is no object', [null]],
    ['iceServers that is no array', { urls: 'stun:stun.example.org' }],
  ])('refuses %s with NET_INVALID_INPUT', (_, servers) => {
    expect(codeOfCall(() => rtcConfiguration(servers as RtcIceServer[]))).toBe('NET_INVALID_INPUT')
  })

  it('refuses iceServers inside the configuration, a bad policy, and relay without TURN', () => {
    const stun = [{ urls: 'stun:stun.example.org' }]
    for (const [servers, configuration] of [
      [[], { iceServers: stun }],
      [stun, { iceTransportPolicy: 'none' }],
      [stun, { iceTransportPolicy: 'relay' }],
      [[], { iceTransportPolicy: 'relay' }],
    ] as const) {
      expect(codeOfCall(() => rtcConfiguration(servers, configuration))).toBe('NET_INVALID_INPUT')
    }
  })

  it('RtcPeer refuses a malformed server before it makes a connection', () => {
    let made = 0
    const Counting = class extends LOOPBACK.RTCPeerConnection {
      constructor(...args: ConstructorParameters<typeof LOOPBACK.RTCPeerConnection>) {
        super(...args)
        made++
      }
    }
    const peer = (iceServers: RtcIceServer[]) => () =>
      new RtcPeer({
        ...LOOPBACK,
        RTCPeerConnection: Counting,
        initiator: true,
        onsignal() {},
        iceServers,
      })
    expect(codeOfCall(peer([{ urls: 'turn:turn.example.org:3478' }]))).toBe('NET_INVALID_INPUT')
    expect(codeOfCall(peer([{ urls: 'stun://stun.example.org' }]))).toBe('NET_INVALID_INPUT')
    expect(made).toBe(0)
  })
})
