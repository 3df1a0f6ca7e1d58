/**
 * Clients that misbehave below the WebSocket API: a TCP socket that never finishes its
 * upgrade headers (slowloris), and an upgraded socket that writes frames and never
 * answers anything (no pong, no close frame), to see that the relay destroys it rather
 * than waiting for the closing handshake. Frames are made by `ws` itself (`Sender.frame`).
 */
import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import * as ws from 'ws'

/** `ws`'s frame encoder (its exported Sender's static `frame`; @types/ws does not declare it). */
const { Sender } = ws as unknown as {
  Sender: {
    frame(
      data: Buffer,
      options: { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean },
    ): Buffer[]
  }
}

const BINARY = 2

/** A TCP connection to the relay on 127.0.0.1 from `localAddress`, once connected. */
export async function tcp(port: number, localAddress = '127.0.0.1'): Promise<Socket> {
  const socket = connect({ port, host: '127.0.0.1', localAddress })
  socket.on('error', () => undefined)
  await once(socket, 'connect')
  return socket
}

/** A connection that sends the start of an upgrade request and then nothing. */
export async function slowloris(port: number, localAddress?: string): Promise<Socket> {
  const socket = await tcp(port, localAddress)
  socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n')
  return socket
}

/** An upgraded WebSocket connection that reads nothing and answers nothing. */
export async function rawWebSocket(port: number, localAddress?: string): Promise<Socket> {
  const socket = await tcp(port, localAddress)
  socket.write(
    'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  )
  let response = ''
  while (!response.includes('\r\n\r\n')) response += String((await once(socket, 'data'))[0])
  if (!response.startsWith('HTTP/1.1 101')) throw new Error(response.split('\r\n')[0])
  return socket
}

/** Writes one masked binary message, as a client must. */
export function sendBinary(socket: Socket, payload: Uint8Array): void {
  const frame = Sender.frame(Buffer.from(payload), {
    fin: true,
    opcode: BINARY,
    mask: true,
    readOnly: false,
    rsv1: false,
  })
  for (const part of frame) socket.write(part)
}

/** Milliseconds until the relay's side of `socket` is gone (TCP closed). */
export async function msUntilClosed(socket: Socket): Promise<number> {
  const start = Date.now()
  if (!socket.closed) await once(socket, 'close')
  return Date.now() - start
}
