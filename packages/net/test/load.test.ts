import { describe, expect, it } from 'vitest'
import { picoWire, streamWire } from '../src/index.ts'
import { tcpConnection } from './transports.ts'

describe('load', () => {
  it('completes 100,000 request/replies over one TCP wire with none lost', async () => {
    const [client, clientTransport] = picoWire()
    const [server, serverTransport] = picoWire()
    const connection = await tcpConnection((socket) => streamWire(serverTransport, socket))
    streamWire(clientTransport, connection.client)
    server.open((msg, answer) => {
      const view = new DataView(msg.buffer, msg.byteOffset, msg.byteLength)
      const reply = new Uint8Array(4)
      new DataView(reply.buffer).setUint32(0, view.getUint32(0) * 2)
      answer?.(reply)
    })
    client.open(() => {})
    const total = 100_000
    const window = 1000
    let next = 0
    let completed = 0
    let wrong = 0
    const worker = async () => {
      while (next < total) {
        const n = next++
        const msg = new Uint8Array(4)
        new DataView(msg.buffer).setUint32(0, n)
        const [reply] = await client.postMessage(msg, true)
        if (new DataView(reply.buffer, reply.byteOffset).getUint32(0) !== n * 2) wrong++
        completed++
      }
    }
    await Promise.all(Array.from({ length: window }, worker))
    expect({ completed, wrong }).toEqual({ completed: total, wrong: 0 })
    client.close()
    expect(await server.closed).toBeUndefined()
    await connection.close()
  }, 60_000)
})
