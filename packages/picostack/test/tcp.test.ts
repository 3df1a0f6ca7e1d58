import { once } from 'node:events'
import net from 'node:net'
import { expect, test } from 'vitest'
import { streamWire } from '../src/index.ts'
import { CounterKernel, chainsOf, until } from './helpers.ts'

test('two kernels sync over loopback TCP, both ways, and gossip new blocks', async () => {
  const alice = new CounterKernel()
  const bob = new CounterKernel()
  await Promise.all([alice.boot(), bob.boot()])
  for (let n = 0; n < 300; n++) await alice.count(n)
  for (let n = 0; n < 20; n++) await bob.count(n)
  const sockets: net.Socket[] = []
  const server = net.createServer((socket) => {
    sockets.push(socket)
    streamWire(alice.spawnWire(), socket)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1')
  await once(client, 'connect')
  streamWire(bob.spawnWire(), client)
  await until(async () => (await chainsOf(bob)).join() === (await chainsOf(alice)).join())
  expect(await chainsOf(alice)).toHaveLength(2)
  await bob.count(20)
  await until(async () => (await chainsOf(bob)).join() === (await chainsOf(alice)).join())
  await Promise.all([alice.store.idle(), bob.store.idle()])
  expect(alice.tally).toEqual(bob.tally)
  expect(alice.tally.blocks).toBe(321)
  const [peer] = alice.peers
  expect(peer!.stats.blocksSent).toBe(300)
  expect(peer!.stats.blocksReceived).toBe(21)
  await Promise.all([alice.close(), bob.close()])
  client.destroy()
  for (const socket of sockets) socket.destroy()
  await new Promise((resolve) => server.close(resolve))
})
