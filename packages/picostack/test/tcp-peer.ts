import { once } from 'node:events'
import net from 'node:net'
import { type SimpleKernel, streamWire } from '../src/index.ts'

/** Teardown steps a test registers, run after it. */
export type Cleanups = (() => unknown)[]

/**
 * A TCP server on 127.0.0.1 whose every connection is a session of `kernel`, spawned with
 * the socket's address; `sockets` are the server's live sockets.
 */
export async function listen(kernel: SimpleKernel, cleanups: Cleanups) {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    streamWire(kernel.spawnWire({ address: socket.remoteAddress }), socket)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  cleanups.push(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise((resolve) => server.close(resolve))
  })
  return { port: (server.address() as net.AddressInfo).port, sockets }
}

/**
 * A raw TCP client that reads and drops what it gets; with `allowHalfOpen` it keeps its
 * side open after the server ended its own.
 */
export async function rawClient(
  port: number,
  cleanups: Cleanups,
  allowHalfOpen = false,
): Promise<net.Socket> {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen })
  socket.on('error', () => {})
  socket.resume() // reads (and drops) what the kernel sends, so its FIN is seen
  await once(socket, 'connect')
  cleanups.push(() => socket.destroy())
  return socket
}
