import { createHash } from 'node:crypto'
import { Hub, type NetError, type Plug } from '@picostack/net'
import Protomux from 'protomux'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { MODEM_PROTOCOL, type ModemError, topicKey, type WireInfo } from '../src/index.ts'
import { assertLocalBootstrap, dec, enc, firstNode, localNet, type Net, until } from './testnet.ts'

/** A hub answering every request with `<name>:<request>`, recording one-way messages. */
function echoHub(name: string) {
  const received: string[] = []
  const hub = new Hub({
    onmessage: (msg, answer) => {
      if (answer) return answer(enc(`${name}:${dec(msg)}`))
      received.push(dec(msg))
    },
  })
  return { hub, received }
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise
  } catch (err) {
    return (err as { code?: string }).code
  }
  return undefined
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b))

describe('topicKey', () => {
  it('hashes strings with SHA-256 over UTF-8 and keeps 32 bytes as they are', () => {
    expect(Buffer.from(topicKey('abc')).toString('hex')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    )
    expect(topicKey('grüße')).toEqual(
      new Uint8Array(createHash('sha256').update(Buffer.from('grüße', 'utf8')).digest()),
    )
    const raw = Uint8Array.from({ length: 32 }, (_, i) => i)
    const key = topicKey(raw)
    expect(key).toEqual(raw)
    expect(key).not.toBe(raw)
    expect(topicKey(Buffer.from(raw))).toEqual(raw)
  })

  it('rejects anything else with MODEM_INVALID_TOPIC', () => {
    for (const bad of ['', new Uint8Array(31), new Uint8Array(33), 42, null, [1, 2]]) {
      expect(() => topicKey(bad as string)).toThrow(
        expect.objectContaining({ code: 'MODEM_INVALID_TOPIC' }),
      )
    }
  })
})

describe('Modem56 over a local testnet', () => {
  let net: Net
  beforeEach(async () => {
    net = await localNet()
  })
  afterEach(async () => {
    await net.teardown()
  })

  it('turns a connection into a wire: requests, replies and one-way messages', async () => {
    const alice = echoHub('alice')
    const bob = echoHub('bob')
    const infos: WireInfo[] = []
    const spawned: WireInfo[] = []
    const a = net.modem()
    const b = net.modem()
    a.on('wire', (info) => infos.push(info))
    b.on('connection', (peer) => spawned.push({ ...peer, topic: new Uint8Array(0) }))
    await a.join('chat', () => alice.hub.createWire())
    await b.join('chat', (info) => {
      spawned.push(info)
      return bob.hub.createWire()
    })
    await until(() => alice.hub.nodes.length === 1 && bob.hub.nodes.length === 1)

    const [reply] = await firstNode(bob.hub).postMessage(enc('hi'), true)
    expect(dec(reply)).toBe('alice:hi')
    const [back] = await firstNode(alice.hub).postMessage(enc('yo'), true)
    expect(dec(back)).toBe('bob:yo')
    await firstNode(alice.hub).postMessage(enc('one-way'))
    await until(() => bob.received.length === 1)
    expect(bob.received).toEqual(['one-way'])

    expect(infos).toHaveLength(1)
    expect(infos[0]!.topic).toEqual(topicKey('chat'))
    // The remote's IP address, on both sides, for the kernel's per-address session cap.
    expect(infos[0]!.address).toBe('127.0.0.1')
    expect(spawned.map((info) => [info.address, info.client])).toEqual([
      ['127.0.0.1', !infos[0]!.client],
      ['127.0.0.1', !infos[0]!.client],
    ])
    expect(same(infos[0]!.remotePublicKey, b.swarm.keyPair.publicKey)).toBe(true)
    expect(a.connectionCount).toBe(1)
    expect(a.wireCount('chat')).toBe(1)
    expect(a.joinedTopics).toEqual([topicKey('chat')])
  })

  it('connects three modems pairwise; a broadcast reaches both others', async () => {
    const peers = ['p0', 'p1', 'p2'].map((name) => ({ ...echoHub(name), modem: net.modem() }))
    for (const peer of peers) await peer.modem.join('room', () => peer.hub.createWire())
    await until(() => peers.every((peer) => peer.hub.nodes.length === 2))
    expect(await peers[0]!.hub.broadcast(enc('hello all'))).toBe(2)
    await until(() => peers[1]!.received.length === 1 && peers[2]!.received.length === 1)
    expect(peers.map((peer) => peer.received)).toEqual([[], ['hello all'], ['hello all']])
    const replies: string[] = []
    for await (const [reply] of peers[2]!.hub.survey(enc('?'))) replies.push(dec(reply))
    expect(replies.sort()).toEqual(['p0:?', 'p1:?'])
  })

  it('connects peers that join at the same moment (repeated lookups)', async () => {
    const peers = [0, 1, 2, 3].map(() => ({ hub: new Hub(), modem: net.modem() }))
    await Promise.all(peers.map((peer) => peer.modem.join('rush', () => peer.hub.createWire())))
    await until(() => peers.every((peer) => peer.hub.nodes.length === 3))
    expect(peers.map((peer) => peer.modem.connectionCount)).toEqual([3, 3, 3, 3])
  })

  it('runs one wire per shared topic on the single connection between two peers', async () => {
    const a = net.modem()
    const b = net.modem()
    const a1 = echoHub('a1')
    const a2 = echoHub('a2')
    const b1 = echoHub('b1')
    const b2 = echoHub('b2')
    await a.join('one', () => a1.hub.createWire())
    await a.join(topicKey('two'), () => a2.hub.createWire())
    await b.join('one', () => b1.hub.createWire())
    await until(() => b1.hub.nodes.length === 1)
    // Joining a second topic later reuses the open connection.
    await b.join('two', () => b2.hub.createWire())
    await until(() => b2.hub.nodes.length === 1)
    expect(a.connectionCount).toBe(1)
    expect(b.connectionCount).toBe(1)
    expect(dec((await firstNode(b1.hub).postMessage(enc('x'), true))[0])).toBe('a1:x')
    expect(dec((await firstNode(b2.hub).postMessage(enc('y'), true))[0])).toBe('a2:y')
    expect(a1.hub.nodes).toHaveLength(1)
    expect(a2.hub.nodes).toHaveLength(1)
  })

  it('closes only the topic wire of a peer that sends malformed frames', async () => {
    const a = net.modem()
    const b = net.modem()
    const closes: Array<string | undefined> = []
    const bad = new Hub({ onclose: (_node, reason) => closes.push((reason as NetError)?.code) })
    const good = echoHub('good')
    await a.join('bad', () => bad.createWire())
    await a.join('good', () => good.hub.createWire())
    const bGood = echoHub('b')
    await b.join('good', () => bGood.hub.createWire())
    await until(() => good.hub.nodes.length === 1)
    // b speaks raw protomux on "bad": a frame whose flags are all reserved bits.
    const [conn] = [...b.swarm.connections]
    const channel = Protomux.from(conn).createChannel({
      protocol: MODEM_PROTOCOL,
      id: Buffer.from(topicKey('bad')),
      onopen: () => message.send(Uint8Array.of(5, 0, 0, 0, 0, 0xf8)),
    })!
    const message = channel.addMessage({ onmessage: () => {} })
    channel.open()
    await until(() => closes.length === 1)
    expect(closes).toEqual(['NET_MALFORMED'])
    expect(a.connectionCount).toBe(1)
    expect(good.hub.nodes).toHaveLength(1)
    const [reply] = await firstNode(good.hub).postMessage(enc('still there?'), true)
    expect(dec(reply)).toBe('b:still there?')
  })

  it('opens no wire for a topic only one side joined', async () => {
    const a = net.modem()
    const b = net.modem()
    const c = net.modem()
    const hubs = { a: echoHub('a'), b: echoHub('b'), c: echoHub('c') }
    await a.join('shared', () => hubs.a.hub.createWire())
    await a.join('only-a', () => hubs.a.hub.createWire())
    await b.join('shared', () => hubs.b.hub.createWire())
    await c.join('other', () => hubs.c.hub.createWire())
    await until(() => hubs.b.hub.nodes.length === 1)
    expect(hubs.a.hub.nodes).toHaveLength(1)
    expect(a.wireCount('only-a')).toBe(0)
    expect(hubs.c.hub.nodes).toHaveLength(0)
  })

  it('leave closes the topic wires cleanly on both sides; rejoining makes new ones', async () => {
    const a = net.modem()
    const b = net.modem()
    const alice = echoHub('alice')
    const closes: Array<Error | undefined> = []
    const bob = new Hub({ onclose: (_node, reason) => closes.push(reason) })
    await a.join('t', () => alice.hub.createWire())
    const leave = await b.join('t', () => bob.createWire())
    await until(() => alice.hub.nodes.length === 1 && bob.nodes.length === 1)
    const aliceNode = firstNode(alice.hub)

    expect(await leave()).toBe(true)
    expect(await b.leave('t')).toBe(false)
    expect(await aliceNode.closed).toBeUndefined() // a close frame, not a vanished peer
    expect(closes).toEqual([undefined])
    expect(alice.hub.nodes).toHaveLength(0)
    expect(b.joinedTopics).toEqual([])

    await b.join('t', () => bob.createWire())
    await until(() => alice.hub.nodes.length === 1 && bob.nodes.length === 1)
    expect(dec((await firstNode(bob).postMessage(enc('back'), true))[0])).toBe('alice:back')
  })

  it('destroy closes every wire on both sides and refuses further joins', async () => {
    const a = net.modem()
    const b = net.modem()
    const alice = echoHub('alice')
    const bob = echoHub('bob')
    await a.join('t', () => alice.hub.createWire())
    await b.join('t', () => bob.hub.createWire())
    await until(() => alice.hub.nodes.length === 1 && bob.hub.nodes.length === 1)
    const bobNode = firstNode(bob.hub)
    const aliceNode = firstNode(alice.hub)
    await a.destroy()
    await a.destroy() // idempotent
    expect(aliceNode.isClosed).toBe(true)
    await bobNode.closed
    expect(bob.hub.nodes).toHaveLength(0)
    expect(a.swarm.destroyed).toBe(true)
    expect(await codeOf(a.join('t', () => alice.hub.createWire()))).toBe('MODEM_DESTROYED')
  })

  it('reports connections and disconnections', async () => {
    const a = net.modem()
    const b = net.modem()
    const events: string[] = []
    a.on('connection', (peer) => {
      events.push(`connection ${same(peer.remotePublicKey, b.swarm.keyPair.publicKey)}`)
    })
    a.on('disconnection', () => events.push('disconnection'))
    const hub = new Hub()
    await a.join('t', () => hub.createWire())
    await b.join('t', () => hub.createWire())
    await until(() => events.length === 1)
    await b.destroy()
    await until(() => events.length === 2)
    expect(events).toEqual(['connection true', 'disconnection'])
    expect(a.connectionCount).toBe(0)
  })

  it('keeps the swarm identity given a seed', () => {
    const seed = new Uint8Array(32).fill(7)
    const a = net.modem({ seed })
    const b = net.modem({ seed })
    expect(same(a.swarm.keyPair.publicKey, b.swarm.keyPair.publicKey)).toBe(true)
    expect(() => net.modem({ seed: new Uint8Array(31) })).toThrow(
      expect.objectContaining({ code: 'MODEM_INVALID_INPUT' }),
    )
    expect(() => net.modem({ lookupIntervalMs: 0 })).toThrow(
      expect.objectContaining({ code: 'MODEM_INVALID_INPUT' }),
    )
  })

  it('refuses bad joins with typed errors and survives a failing spawnWire', async () => {
    const a = net.modem()
    const b = net.modem()
    const hub = new Hub()
    await a.join('t', () => hub.createWire())
    expect(await codeOf(a.join('t', () => hub.createWire()))).toBe('MODEM_ALREADY_JOINED')
    expect(await codeOf(a.join(topicKey('t'), () => hub.createWire()))).toBe('MODEM_ALREADY_JOINED')
    expect(await codeOf(a.join(new Uint8Array(3), () => hub.createWire()))).toBe(
      'MODEM_INVALID_TOPIC',
    )
    expect(await codeOf(a.join('u', 'nope' as never))).toBe('MODEM_INVALID_INPUT')

    const warnings: string[] = []
    b.on('warning', (err) => warnings.push((err as ModemError).code ?? err.message))
    await b.join('t', () => {
      throw new Error('boom')
    })
    await b.join('u', () => 'not a plug' as unknown as Plug)
    await a.join('u', () => hub.createWire())
    await until(() => warnings.length === 2)
    expect(warnings.sort()).toEqual(['MODEM_INVALID_INPUT', 'boom'])
    expect(a.wireCount('t')).toBe(0)
    expect(a.connectionCount).toBe(1) // the connection survives for other topics
    expect(MODEM_PROTOCOL).toBe('picostack/wire/1')
  })
})

describe('bootstrap guard', () => {
  it('passes only when every bootstrap node is on 127.0.0.1', () => {
    // Plain objects: a real DHT with a remote bootstrap node would send it packets.
    const swarmWith = (...hosts: string[]) => ({
      swarm: { dht: { bootstrapNodes: hosts.map((host) => ({ host, port: 49737 })) } },
    })
    expect(() => assertLocalBootstrap(swarmWith('127.0.0.1', '127.0.0.1'))).not.toThrow()
    expect(() => assertLocalBootstrap(swarmWith('127.0.0.1', '88.99.3.86'))).toThrow()
    expect(() => assertLocalBootstrap(swarmWith())).toThrow() // empty = hyperdht's public default
  })
})
