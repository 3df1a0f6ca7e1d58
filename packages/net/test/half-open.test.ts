/**
 * Closing a byte wire: a clean close ends the transport and destroys it when the peer has
 * not closed its side within `halfOpenTimeoutMs`; `plug.destroy(reason)` and protocol
 * violations destroy at once. Over a fake link (exact calls, fake timers), TCP and ws.
 */
import { once } from 'node:events'
import net from 'node:net'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import {
  DEFAULT_HALF_OPEN_TIMEOUT_MS,
  encodeFrame,
  FLAG_CLOSE,
  FLAG_ERROR,
  type FrameLink,
  frameWire,
  Hub,
  NetError,
  picoWire,
  streamWire,
  wsWire,
} from '../src/index.ts'
import { enc } from './conversation.ts'

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

/** `clean`, the reason's code, or its message. */
const why = (reason: Error | undefined) =>
  reason === undefined ? 'clean' : ((reason as NetError).code ?? reason.message)

const closeFrame = (text?: string) =>
  hex(
    encodeFrame({
      dstPort: 0,
      srcPort: 0,
      flags: text === undefined ? FLAG_CLOSE : FLAG_CLOSE | FLAG_ERROR,
      payload: enc(text ?? ''),
    }),
  )

/** A link that records what frameWire asks of it. */
function recordingLink() {
  const calls: string[] = []
  const link: Required<FrameLink> = {
    write: (bytes) => calls.push(`write ${hex(bytes)}`),
    close: (reason) => calls.push(`close ${why(reason)}`),
    destroy: (reason) => calls.push(`destroy ${why(reason)}`),
  }
  return { calls, link }
}

describe('frameWire closing (fake link, fake timers)', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('ends, then destroys with NET_TIMEOUT when the peer has not closed within halfOpenTimeoutMs', async () => {
    vi.useFakeTimers()
    const [app, transport] = picoWire()
    const { calls, link } = recordingLink()
    frameWire(transport, link, { halfOpenTimeoutMs: 1000 })
    app.close()
    await vi.advanceTimersByTimeAsync(999)
    expect(calls).toEqual([`write ${closeFrame()}`, 'close clean'])
    expect(closeFrame()).toBe('050000000004')
    await vi.advanceTimersByTimeAsync(1)
    expect(calls).toEqual([`write ${closeFrame()}`, 'close clean', 'destroy NET_TIMEOUT'])
  })

  it('destroys nothing when the peer closes its side in time', async () => {
    vi.useFakeTimers()
    const [app, transport] = picoWire()
    const { calls, link } = recordingLink()
    const receiver = frameWire(transport, link)
    app.close(new Error('bye'))
    await vi.advanceTimersByTimeAsync(DEFAULT_HALF_OPEN_TIMEOUT_MS - 1)
    receiver.end()
    await vi.advanceTimersByTimeAsync(60_000)
    expect(calls).toEqual([`write ${closeFrame('bye')}`, 'close bye'])
  })

  it('after a close frame from the peer, destroys the transport if the peer then never closes it', async () => {
    vi.useFakeTimers()
    const [app, transport] = picoWire()
    const { calls, link } = recordingLink()
    const receiver = frameWire(transport, link, { halfOpenTimeoutMs: 1000 })
    receiver.receive(encodeFrame({ dstPort: 0, srcPort: 0, flags: FLAG_CLOSE, payload: enc('') }))
    expect(await app.closed).toBeUndefined()
    await vi.advanceTimersByTimeAsync(999)
    expect(calls).toEqual(['close clean']) // no close frame back: the peer closed first
    await vi.advanceTimersByTimeAsync(1)
    expect(calls).toEqual(['close clean', 'destroy NET_TIMEOUT'])
  })

  it('defaults halfOpenTimeoutMs to 5 s', async () => {
    vi.useFakeTimers()
    const [app, transport] = picoWire()
    const { calls, link } = recordingLink()
    frameWire(transport, link)
    app.close()
    await vi.advanceTimersByTimeAsync(4999)
    expect(calls).not.toContain('destroy NET_TIMEOUT')
    await vi.advanceTimersByTimeAsync(1)
    expect(calls.at(-1)).toBe('destroy NET_TIMEOUT')
    expect(DEFAULT_HALF_OPEN_TIMEOUT_MS).toBe(5000)
  })

  it('plug.destroy writes the close frame and destroys at once, never ending gracefully', async () => {
    const [app, transport] = picoWire()
    const { calls, link } = recordingLink()
    frameWire(transport, link)
    const reason = new Error('misbehaving')
    app.destroy(reason)
    expect(await app.closed).toBe(reason)
    expect(calls).toEqual([`write ${closeFrame('misbehaving')}`, 'destroy misbehaving'])
  })

  it('a malformed frame destroys at once with NET_MALFORMED', async () => {
    const [app, transport] = picoWire()
    const { calls, link } = recordingLink()
    const receiver = frameWire(transport, link)
    receiver.receive(new Uint8Array([0x05, 0, 0, 0, 0, 0xf8])) // reserved flag bits
    expect(((await app.closed) as NetError).code).toBe('NET_MALFORMED')
    expect(calls.at(-1)).toBe('destroy NET_MALFORMED')
    expect(calls.filter((c) => c.startsWith('close'))).toEqual([])
  })

  it('end(NET_MALFORMED) from the transport means "must stop": destroyed at once', async () => {
    const [app, transport] = picoWire()
    const { calls, link } = recordingLink()
    const receiver = frameWire(transport, link)
    receiver.end(new NetError('NET_MALFORMED', 'not binary'))
    expect(((await app.closed) as NetError).code).toBe('NET_MALFORMED')
    expect(calls.at(-1)).toBe('destroy NET_MALFORMED')
  })

  it('a link without destroy gets close(reason) for every close, and no timer runs', async () => {
    vi.useFakeTimers()
    const [app, transport] = picoWire()
    const calls: string[] = []
    frameWire(transport, {
      write: () => {},
      close: (reason) => calls.push(`close ${(reason as NetError | undefined)?.code}`),
    })
    app.destroy(new NetError('NET_MALFORMED', 'x'))
    await vi.advanceTimersByTimeAsync(60_000)
    expect(calls).toEqual(['close NET_MALFORMED'])
  })

  it('destroying a hub node or a spliced wire destroys the transport behind it', async () => {
    const hub = new Hub()
    const { calls, link } = recordingLink()
    let node: ReturnType<Hub['createWire']> | undefined
    frameWire(
      hub.createWire((n) => {
        node = n
      }),
      link,
    )
    await vi.waitFor(() => expect(node).toBeDefined())
    node!.destroy(new Error('misbehaving'))
    await vi.waitFor(() => expect(calls.at(-1)).toBe('destroy misbehaving'))

    const [outer, toTransport] = picoWire()
    const [inner, app] = picoWire()
    outer(inner)
    const spliced = recordingLink()
    frameWire(toTransport, spliced.link)
    app.destroy()
    await vi.waitFor(() => expect(spliced.calls.at(-1)).toBe('destroy clean'))
    hub.close()
  })
})

/** A TCP server on 127.0.0.1 whose sockets run streamWire; clients connect raw. */
async function tcpServer(onSocket: (socket: net.Socket) => void) {
  const sockets: net.Socket[] = []
  const server = net.createServer((socket) => {
    socket.on('error', () => {})
    sockets.push(socket)
    onSocket(socket)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as net.AddressInfo
  return {
    port,
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

/** A raw client that reads what it gets and never ends its side (a half-open peer). */
async function halfOpenPeer(port: number) {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true })
  socket.on('error', () => {})
  const received: Buffer[] = []
  socket.on('data', (chunk: Buffer) => received.push(chunk))
  await once(socket, 'connect')
  return { socket, received: () => hex(Buffer.concat(received)) }
}

describe('streamWire closing over TCP 127.0.0.1', () => {
  it('destroys the socket of a peer that never ends its side, after halfOpenTimeoutMs', async () => {
    const [app, transport] = picoWire()
    app.open(() => {})
    const serverSide: net.Socket[] = []
    const server = await tcpServer((socket) => {
      serverSide.push(socket)
      streamWire(transport, socket, { halfOpenTimeoutMs: 300 })
    })
    const peer = await halfOpenPeer(server.port)
    await vi.waitFor(() => expect(serverSide).toHaveLength(1))
    const socket = serverSide[0]!
    const closedAt = once(socket, 'close').then(() => performance.now())
    const start = performance.now()
    app.close()
    await once(peer.socket, 'end') // our FIN arrived, after the close frame
    expect(peer.received()).toBe('050000000004')
    peer.socket.write(new Uint8Array(10_000)) // the half-open peer keeps talking
    await new Promise((resolve) => setTimeout(resolve, 150))
    expect(socket.destroyed).toBe(false)
    expect((await closedAt) - start).toBeGreaterThanOrEqual(290)
    expect(socket.destroyed).toBe(true)
    peer.socket.destroy()
    await server.close()
  })

  it('closes both sides without waiting when the peer ends its side too', async () => {
    const [a, aTransport] = picoWire()
    const [b, bTransport] = picoWire()
    const serverSide: net.Socket[] = []
    const server = await tcpServer((socket) => {
      serverSide.push(socket)
      streamWire(bTransport, socket, { halfOpenTimeoutMs: 20_000 })
    })
    const client = net.connect(server.port, '127.0.0.1')
    client.on('error', () => {})
    streamWire(aTransport, client, { halfOpenTimeoutMs: 20_000 })
    b.open(() => {})
    a.open(() => {})
    await a.opened
    await vi.waitFor(() => expect(serverSide).toHaveLength(1))
    const start = performance.now()
    const closed = Promise.all([once(serverSide[0]!, 'close'), once(client, 'close')])
    b.close()
    await closed
    expect(performance.now() - start).toBeLessThan(5000)
    expect(await a.closed).toBeUndefined()
    await server.close()
  })

  it('plug.destroy tears the socket down at once (the kernel after KERNEL_MISBEHAVING)', async () => {
    const hub = new Hub()
    let node: ReturnType<Hub['createWire']> | undefined
    const serverSide: net.Socket[] = []
    const server = await tcpServer((socket) => {
      serverSide.push(socket)
      streamWire(
        hub.createWire((n) => {
          node = n
        }),
        socket,
        { halfOpenTimeoutMs: 20_000 },
      )
    })
    const peer = await halfOpenPeer(server.port)
    await vi.waitFor(() => expect(node).toBeDefined())
    const socket = serverSide[0]!
    const start = performance.now()
    const reason = new Error('misbehaving')
    node!.destroy(reason)
    await once(socket, 'close')
    expect(performance.now() - start).toBeLessThan(2000)
    expect(await node!.closed).toBe(reason)
    peer.socket.destroy()
    hub.close()
    await server.close()
  })
})

describe('wsWire closing over ws 127.0.0.1', () => {
  /** A ws server whose accepted sockets run wsWire, and a client that stops reading. */
  async function setup(halfOpenTimeoutMs: number) {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 })
    await once(server, 'listening')
    const { port } = server.address() as net.AddressInfo
    const [app, transport] = picoWire()
    app.open(() => {})
    const accepted = new Promise<WebSocket>((resolve) =>
      server.once('connection', (ws: WebSocket) => {
        wsWire(transport, ws, { halfOpenTimeoutMs })
        resolve(ws)
      }),
    )
    const client = new WebSocket(`ws://127.0.0.1:${port}`)
    client.on('error', () => {})
    await once(client, 'open')
    client.pause() // never reads our close frame, so never answers the closing handshake
    const ws = await accepted
    return {
      app,
      ws,
      async teardown() {
        client.terminate()
        await new Promise((resolve) => server.close(resolve))
      },
    }
  }

  it('terminates a peer that does not finish the closing handshake within halfOpenTimeoutMs', async () => {
    const { app, ws, teardown } = await setup(300)
    const start = performance.now()
    const closed = once(ws, 'close')
    app.close()
    await new Promise((resolve) => setTimeout(resolve, 150))
    expect(ws.readyState).toBe(WebSocket.CLOSING)
    await closed // without the timeout: ws's own 30 s closeTimeout
    expect(performance.now() - start).toBeGreaterThanOrEqual(290)
    expect(performance.now() - start).toBeLessThan(5000)
    await teardown()
  })

  it('plug.destroy terminates at once', async () => {
    const { app, ws, teardown } = await setup(20_000)
    const start = performance.now()
    const closed = once(ws, 'close')
    app.destroy(new Error('misbehaving'))
    await closed
    expect(performance.now() - start).toBeLessThan(2000)
    await teardown()
  })
})
