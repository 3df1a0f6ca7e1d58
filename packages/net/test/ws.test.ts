import { once } from 'node:events'
import type net from 'node:net'
import { describe, expect, it } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import {
  encodeFrame,
  FLAG_REPLY_EXPECTED,
  NetError,
  picoWire,
  type WebSocketLike,
  wsWire,
} from '../src/index.ts'
import { codeOf, conversationSuite, dec, enc, signal } from './conversation.ts'
import { wsPair } from './transports.ts'

conversationSuite('WebSocket (ws) 127.0.0.1', (options) => wsPair(options), false)

/** A browser-shaped socket driven by the test: records sends, dispatches messages. */
class FakeSocket extends EventTarget implements WebSocketLike {
  binaryType = 'blob'
  readyState = 1
  sent: Uint8Array[] = []
  closedWith: number | undefined
  send(data: Uint8Array) {
    this.sent.push(data)
  }
  close(code?: number) {
    this.closedWith = code
    this.readyState = 3
  }
  deliver(data: unknown) {
    this.dispatchEvent(Object.assign(new Event('message'), { data }))
  }
}

const frame = (text: string) =>
  encodeFrame({ dstPort: 0, srcPort: 0, flags: 0, payload: enc(text) })

describe('wsWire specifics', () => {
  it('reads Blob, ArrayBuffer, Buffer and fragment messages in arrival order', async () => {
    const [app, transport] = picoWire()
    const socket = new FakeSocket()
    const got: string[] = []
    const done = signal()
    app.open((msg) => {
      got.push(dec(msg))
      if (got.length === 5) done.resolve()
    })
    wsWire(transport, socket)
    expect(socket.binaryType).toBe('arraybuffer')
    const both = frame('3')
    socket.deliver(new Blob([frame('1')]))
    socket.deliver(frame('2').slice().buffer)
    socket.deliver([Buffer.from(both.subarray(0, 2)), Buffer.from(both.subarray(2))])
    socket.deliver(new Blob([frame('4')]))
    socket.deliver(Buffer.from(frame('5')))
    await done.promise
    expect(got).toEqual(['1', '2', '3', '4', '5'])
    app.close()
  })

  it('closes with NET_MALFORMED (code 1002) on a text message', async () => {
    const [app, transport] = picoWire()
    const socket = new FakeSocket()
    wsWire(transport, socket)
    socket.deliver('hello')
    const reason = await app.closed
    expect((reason as NetError).code).toBe('NET_MALFORMED')
    expect(socket.closedWith).toBe(1002)
  })

  it('answers requests over the socket with the exact reply frame', async () => {
    const [app, transport] = picoWire()
    const socket = new FakeSocket()
    app.open((msg, answer) => answer?.(enc(`re:${dec(msg)}`)))
    wsWire(transport, socket)
    socket.deliver(
      encodeFrame({ dstPort: 0, srcPort: 9, flags: FLAG_REPLY_EXPECTED, payload: enc('q') }),
    )
    await expect.poll(() => socket.sent.length).toBe(1)
    expect(socket.sent[0]).toEqual(
      encodeFrame({ dstPort: 9, srcPort: 0, flags: 0, payload: enc('re:q') }),
    )
    app.close()
    await app.closed
    expect(Buffer.from(socket.sent[1]!).toString('hex')).toBe('050000000004') // clean close frame
    expect(socket.closedWith).toBe(1000)
  })

  it('queues frames sent while the real socket is still connecting', async () => {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 })
    await once(server, 'listening')
    const { port } = server.address() as net.AddressInfo
    const [serverApp, serverTransport] = picoWire()
    serverApp.open((msg, answer) => answer?.(enc(dec(msg).toUpperCase())))
    server.on('connection', (ws: WebSocket) => wsWire(serverTransport, ws))
    const [app, transport] = picoWire()
    const client = new WebSocket(`ws://127.0.0.1:${port}`)
    wsWire(transport, client)
    app.open(() => {})
    expect(client.readyState).toBe(WebSocket.CONNECTING)
    expect((await app.postMessage(enc('early'), true))[0]).toEqual(enc('EARLY'))
    app.close()
    expect(await serverApp.closed).toBeUndefined()
    await new Promise((resolve) => server.close(resolve))
  })
})

describe('wsWire attach time', () => {
  /** A ws server on 127.0.0.1 that greets every connection first, as the relay's kernel does. */
  async function greetingServer() {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 })
    await once(server, 'listening')
    const { port } = server.address() as net.AddressInfo
    server.on('connection', (ws: WebSocket) => {
      const [app, transport] = picoWire()
      app.open(() => {})
      wsWire(transport, ws) // OPEN already: a server-side socket is used at once
      app.postMessage(enc('hello from the server'))
    })
    return {
      url: `ws://127.0.0.1:${port}`,
      async close() {
        for (const ws of server.clients) ws.terminate()
        await new Promise((resolve) => server.close(resolve))
      },
    }
  }

  it('a client socket attached while CONNECTING gets the message sent with the upgrade response', async () => {
    const server = await greetingServer()
    const [app, transport] = picoWire()
    const first = signal<string>()
    app.open((msg) => first.resolve(dec(msg)))
    const client = new WebSocket(server.url)
    wsWire(transport, client)
    expect(await first.promise).toBe('hello from the server')
    app.close()
    await server.close()
  })

  it('refuses a client socket attached after open with NET_LATE_ATTACH (its first message is gone) and closes the plug', async () => {
    const server = await greetingServer()
    const client = new WebSocket(server.url)
    client.on('error', () => {})
    await once(client, 'open')
    const [app, transport] = picoWire()
    let err: unknown
    try {
      wsWire(transport, client)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(NetError)
    expect((err as NetError).code).toBe('NET_LATE_ATTACH')
    expect(await app.closed).toBe(err)
    expect(await codeOf(app.postMessage(enc('x')))).toBe('NET_DISCONNECTED')
    client.terminate()
    await server.close()
  })

  it('refuses a socket that is closing or closed with NET_DISCONNECTED', async () => {
    for (const readyState of [2, 3]) {
      const socket = Object.assign(new FakeSocket(), { readyState })
      const [app, transport] = picoWire()
      let code: string | undefined
      try {
        wsWire(transport, socket)
      } catch (e) {
        code = (e as NetError).code
      }
      expect(code).toBe('NET_DISCONNECTED')
      expect(((await app.closed) as NetError).code).toBe('NET_DISCONNECTED')
    }
  })
})
