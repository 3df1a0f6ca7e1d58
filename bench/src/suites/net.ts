/**
 * Request/reply over loopback TCP: @picostack/net (picoWire + streamWire framing, reply
 * ports, timeouts) beside a raw length-prefixed echo over the same kind of socket, in the
 * same run. One request in flight, then a window of 16; 64 KiB payloads (and 64 B for
 * the per-message overhead). MB/s counts payload bytes both ways. A third row carries the
 * same wire over a WebRTC data channel (rtcWire) between two node-datachannel peers on
 * 127.0.0.1, with a quarter of the round trips (it is slower; rates stay comparable).
 */
import { once } from 'node:events'
import net from 'node:net'
import { type Plug, picoWire, RtcPeer, type RtcSignal, rtcWire, streamWire } from '@picostack/net'
import { RTCPeerConnection } from 'node-datachannel/polyfill'
import { type Measurement, measure, printTable, ratio } from '../measure.ts'

const KIB_64 = 64 * 1024
const CASES = [
  { payloadBytes: KIB_64, roundTrips: 4_000, window: 1 },
  { payloadBytes: KIB_64, roundTrips: 8_000, window: 16 },
  { payloadBytes: 64, roundTrips: 20_000, window: 1 },
  { payloadBytes: 64, roundTrips: 100_000, window: 16 },
]

type Request = (payload: Uint8Array) => Promise<Uint8Array>

interface Endpoint {
  request: Request
  close(): Promise<void>
}

async function listen(onSocket: (socket: net.Socket) => void) {
  const sockets: net.Socket[] = []
  const server = net.createServer((socket) => {
    socket.setNoDelay(true)
    sockets.push(socket)
    onSocket(socket)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1')
  client.setNoDelay(true)
  await once(client, 'connect')
  return {
    client,
    async close() {
      client.destroy()
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

/** @picostack/net: an echoing plug behind streamWire on the server side. */
async function picoEndpoint(): Promise<Endpoint> {
  const [server, serverTransport] = picoWire()
  server.open((msg, answer) => answer?.(msg))
  const connection = await listen((socket) => streamWire(serverTransport, socket))
  const [client, clientTransport]: Plug[] = picoWire()
  streamWire(clientTransport!, connection.client)
  client!.open(() => {})
  return {
    request: async (payload) => (await client!.postMessage(payload, true))[0],
    async close() {
      client!.close()
      await connection.close()
    },
  }
}

/** @picostack/net over WebRTC: two node-datachannel peers on loopback, signals passed in-process. */
async function rtcEndpoint(): Promise<Endpoint> {
  const peers: RtcPeer[] = []
  const make = (initiator: boolean) =>
    new RtcPeer({
      RTCPeerConnection: RTCPeerConnection,
      configuration: { bindAddress: '127.0.0.1' },
      initiator,
      onsignal: (signal: RtcSignal) => peers[initiator ? 1 : 0]!.signal(signal),
    })
  peers.push(make(true), make(false))
  const [server, serverTransport] = picoWire()
  server.open((msg, answer) => answer?.(msg))
  rtcWire(serverTransport, peers[1]!.channel)
  const [client, clientTransport] = picoWire()
  rtcWire(clientTransport, peers[0]!.channel)
  client.open(() => {})
  await Promise.all(peers.map((peer) => peer.opened))
  return {
    request: async (payload) => (await client.postMessage(payload, true))[0],
    async close() {
      client.close()
      for (const peer of peers) peer.close()
    },
  }
}

/** Splits a byte stream into u32-BE-length-prefixed messages (the raw baseline). */
function lengthPrefixed(onMessage: (msg: Uint8Array) => void) {
  let chunks: Uint8Array[] = []
  let held = 0
  return (chunk: Uint8Array) => {
    chunks.push(chunk)
    held += chunk.length
    while (held >= 4) {
      const head = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
      chunks = [head]
      const length = new DataView(head.buffer, head.byteOffset).getUint32(0)
      if (held < 4 + length) return
      onMessage(head.slice(4, 4 + length))
      chunks = head.length > 4 + length ? [head.subarray(4 + length)] : []
      held -= 4 + length
    }
  }
}

function withPrefix(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + payload.length)
  new DataView(out.buffer).setUint32(0, payload.length)
  out.set(payload, 4)
  return out
}

/** Raw echo: the server writes every message back; replies come in request order. */
async function rawEndpoint(): Promise<Endpoint> {
  const connection = await listen((socket) => {
    socket.on(
      'data',
      lengthPrefixed((msg) => socket.write(withPrefix(msg))),
    )
  })
  const waiting: ((reply: Uint8Array) => void)[] = []
  connection.client.on(
    'data',
    lengthPrefixed((reply) => waiting.shift()?.(reply)),
  )
  return {
    request: (payload) =>
      new Promise((resolve) => {
        waiting.push(resolve)
        connection.client.write(withPrefix(payload))
      }),
    close: () => connection.close(),
  }
}

async function run(request: Request, payload: Uint8Array, roundTrips: number, window: number) {
  let next = 0
  const worker = async () => {
    while (next < roundTrips) {
      next++
      const reply = await request(payload)
      if (reply.length !== payload.length) throw new Error('lost bytes')
    }
  }
  await Promise.all(Array.from({ length: window }, worker))
}

export default async function netSuite(): Promise<void> {
  const rows: Record<string, string | number>[] = []
  const pico = await picoEndpoint()
  const raw = await rawEndpoint()
  const rtc = await rtcEndpoint()
  try {
    for (const { payloadBytes, roundTrips, window } of CASES) {
      const payload = new Uint8Array(payloadBytes).fill(7)
      const label = `${payloadBytes >= 1024 ? `${payloadBytes / 1024} KiB` : `${payloadBytes} B`}, window ${window}`
      const figures: Measurement[] = []
      for (const [name, endpoint, share] of [
        ['raw length-prefixed echo (TCP)', raw, 1],
        ['@picostack/net (TCP)', pico, 1],
        ['@picostack/net (WebRTC)', rtc, 4],
      ] as const) {
        const count = Math.round(roundTrips / share)
        figures.push(
          await measure(`${name} (${label})`, count, () =>
            run(endpoint.request, payload, count, window),
          ),
        )
      }
      for (const m of figures) {
        rows.push({
          case: m.name,
          'round trips/s': m.perSecond,
          'MB/s': ((m.perSecond * payloadBytes * 2) / 1e6).toFixed(1),
          'vs raw': ratio(m.perSecond, figures[0]!.perSecond),
        })
      }
    }
  } finally {
    await pico.close()
    await raw.close()
    await rtc.close()
  }
  printTable(
    'net: request/reply over loopback TCP and WebRTC (target: net over TCP >= 0.50x raw)',
    rows,
  )
}
