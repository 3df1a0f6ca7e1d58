/**
 * Declared but unsent frames: many sockets each announce a 1 MiB frame (`85 80 40`) and
 * send nothing more. The decoder holds what arrived, so they cost bytes, not 1 MiB each.
 */
import { once } from 'node:events'
import net from 'node:net'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { expect, it } from 'vitest'
import { Hub, streamWire } from '../src/index.ts'

/** The engine's garbage collector (exposed at run time), so growth is what is still held. */
function collector(): () => void {
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
}

const SOCKETS = 500
const MIB = 1024 * 1024
/** Growth allowed for all 500 sockets together: 16 MiB (today's declared frames: 500 MiB). */
const BOUND_BYTES = 16 * MIB

it(`${SOCKETS} sockets declaring a 1 MiB frame each hold < 16 MiB of ArrayBuffers and heap`, async () => {
  const gc = collector()
  const hub = new Hub()
  let receivedBytes = 0
  const serverSide: net.Socket[] = []
  const server = net.createServer((socket) => {
    socket.on('error', () => {})
    serverSide.push(socket)
    streamWire(hub.createWire(), socket)
    socket.on('data', (chunk: Uint8Array) => {
      receivedBytes += chunk.length // after streamWire's listener: the decoder has it
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as net.AddressInfo
  const clients = Array.from({ length: SOCKETS }, () => {
    const socket = net.connect(port, '127.0.0.1')
    socket.on('error', () => {})
    return socket
  })
  await Promise.all(clients.map((socket) => once(socket, 'connect')))
  await expect.poll(() => serverSide.length, { timeout: 10_000 }).toBe(SOCKETS)

  gc()
  const before = process.memoryUsage()
  for (const socket of clients) socket.write(new Uint8Array([0x85, 0x80, 0x40]))
  await expect.poll(() => receivedBytes, { timeout: 10_000 }).toBe(3 * SOCKETS)
  gc()
  const after = process.memoryUsage()

  expect(serverSide.every((socket) => !socket.destroyed)).toBe(true) // still waiting for more
  expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(BOUND_BYTES)
  expect(after.heapUsed - before.heapUsed).toBeLessThan(BOUND_BYTES)

  for (const socket of clients) socket.destroy()
  hub.close()
  await new Promise((resolve) => server.close(resolve))
}, 60_000)
