import { describe, expect, it } from 'vitest'
import { Hub, NetError, type Plug, picoWire, streamWire } from '../src/index.ts'
import { codeOf, dec, enc, signal } from './conversation.ts'
import { tcpConnection } from './transports.ts'

/** Opens `count` app plugs on `hub`; each records what it receives. */
function attach(hub: Hub, count: number) {
  return Array.from({ length: count }, (_, i) => {
    const received: string[] = []
    const plug = hub.createWire(undefined, `n${i}`)
    plug.open((msg) => {
      received.push(dec(msg))
    })
    return { plug, received }
  })
}

const settle = () => new Promise((resolve) => setImmediate(resolve))

describe('Hub', () => {
  it('repeats one-way messages to every other node, never back to the sender', async () => {
    const hub = new Hub()
    const apps = attach(hub, 4)
    await settle()
    expect(hub.nodes.map((n) => n.id)).toEqual(['n0', 'n1', 'n2', 'n3'])
    await apps[1]!.plug.postMessage(enc('from 1'))
    expect(apps.map((a) => a.received)).toEqual([['from 1'], [], ['from 1'], ['from 1']])
    expect(await codeOf(apps[0]!.plug.postMessage(enc('q'), true))).toBe('NET_NO_HANDLER')
    hub.close()
  })

  it('broadcasts to all nodes but the excluded ones and counts deliveries', async () => {
    const opened: Plug[] = []
    const hub = new Hub({ onmessage: () => {} })
    const apps = Array.from({ length: 3 }, () => {
      const received: string[] = []
      hub
        .createWire((node) => opened.push(node))
        .open((msg) => {
          received.push(dec(msg))
        })
      return received
    })
    await settle()
    expect(opened).toEqual(hub.nodes)
    expect(await hub.broadcast(enc('all'))).toBe(3)
    expect(await hub.broadcast(enc('not 0'), { exclude: opened[0] })).toBe(2)
    expect(await hub.broadcast(enc('only 2'), { exclude: [opened[0]!, opened[1]!] })).toBe(1)
    expect(apps).toEqual([['all'], ['all', 'not 0'], ['all', 'not 0', 'only 2']])
    await expect(hub.broadcast('x' as unknown as Uint8Array)).rejects.toMatchObject({
      code: 'NET_INVALID_INPUT',
    })
    hub.close()
  })

  it('routes every message to onmessage with the node it came from', async () => {
    const hub = new Hub({
      onmessage: (msg, answer, node) => answer?.(enc(`${node.id}:${dec(msg)}`)),
    })
    const apps = attach(hub, 2)
    await settle()
    expect((await apps[1]!.plug.postMessage(enc('hi'), true))[0]).toEqual(enc('n1:hi'))
    hub.close()
  })

  it('surveys 10 wires, streaming replies and skipping the failing node', async () => {
    const hub = new Hub({ onmessage: () => {} })
    const release = signal()
    for (let i = 0; i < 10; i++) {
      hub.createWire(undefined, `n${i}`).open(async (msg, answer) => {
        if (i === 3) throw new Error('node 3 is broken')
        if (i === 7) await release.promise // the slowest node answers last
        await answer?.(enc(`${i}:${dec(msg)}`), i === 0)
      })
    }
    await settle()
    const failures: [string | undefined, string][] = []
    const replies: string[] = []
    let continued: Promise<unknown> | undefined
    for await (const [reply, answer, node] of hub.survey(enc('ping'), {
      onerror: (err, node) => failures.push([node.id, (err as NetError).code]),
    })) {
      replies.push(dec(reply))
      if (answer) continued = answer(enc('follow-up'))
      if (replies.length === 8) release.resolve()
      expect(node.id).toBe(`n${dec(reply).split(':')[0]}`)
    }
    expect(replies).toHaveLength(9)
    expect(replies.at(-1)).toBe('7:ping')
    expect(replies.sort()).toEqual([0, 1, 2, 4, 5, 6, 7, 8, 9].map((i) => `${i}:ping`).sort())
    expect(failures).toEqual([['n3', 'NET_REMOTE_ERROR']])
    await continued
    hub.close()
  })

  it('closes a wire that is never opened with NET_TIMEOUT', async () => {
    const closes: [Plug, Error | undefined][] = []
    const hub = new Hub({
      openTimeoutMs: 30,
      onclose: (node, reason) => closes.push([node, reason]),
    })
    const loose = hub.createWire()
    const reason = await loose.closed
    expect(reason).toBeInstanceOf(NetError)
    expect((reason as NetError).code).toBe('NET_TIMEOUT')
    expect(closes).toHaveLength(1)
    expect(closes[0]![1]).toBe(reason)
    expect(hub.nodes).toEqual([])
    hub.close()
  })

  it('disconnects nodes by plug or id, closes everything and refuses new wires after close', async () => {
    const closes: (string | undefined)[] = []
    const hub = new Hub({ onmessage: () => {}, onclose: (node) => closes.push(node.id) })
    const apps = attach(hub, 3)
    await settle()
    const reason = new Error('kicked')
    expect(hub.disconnect(hub.nodes[0]!, reason)).toBe(true)
    expect(await apps[0]!.plug.closed).toBe(reason)
    expect(hub.disconnect('n1')).toBe(true)
    expect(hub.disconnect('nobody')).toBe(false)
    expect(hub.disconnect(picoWire()[0])).toBe(false)
    await settle()
    expect(hub.nodes.map((n) => n.id)).toEqual(['n2'])
    hub.close()
    await apps[2]!.plug.closed
    expect(closes).toEqual(['n0', 'n1', 'n2'])
    expect(hub.isClosed).toBe(true)
    expect(() => hub.createWire()).toThrow(expect.objectContaining({ code: 'NET_DISCONNECTED' }))
  })

  it('closes a node whose onOpen throws, with that error', async () => {
    const boom = new Error('onOpen failed')
    const hub = new Hub({ onmessage: () => {} })
    const loose = hub.createWire(() => {
      throw boom
    })
    loose.open(() => {})
    expect(await loose.closed).toBe(boom)
    hub.close()
  })

  it('serves nodes over TCP: a malformed or oversize connection closes alone', async () => {
    const reasons: (string | undefined)[] = []
    const hub = new Hub({
      onmessage: (msg, answer) => answer?.(msg),
      onclose: (_node, reason) => reasons.push((reason as NetError | undefined)?.code),
    })
    const options = { maxFrameBytes: 1024 }
    const good = await tcpConnection((socket) => streamWire(hub.createWire(), socket, options))
    const bad = await tcpConnection((socket) => streamWire(hub.createWire(), socket, options))
    const big = await tcpConnection((socket) => streamWire(hub.createWire(), socket, options))
    const [app, transport] = picoWire()
    streamWire(transport, good.client, options)
    app.open(() => {})
    await settle()
    expect(hub.nodes).toHaveLength(3)
    for (const { client } of [bad, big]) client.resume() // read (and drop) the close frames
    const badClosed = new Promise((resolve) => bad.client.on('close', resolve))
    bad.client.write(new Uint8Array([6, 0, 0, 0, 0, 0xf0, 1])) // reserved flag bits
    const bigClosed = new Promise((resolve) => big.client.on('close', resolve))
    big.client.write(new Uint8Array([0xff, 0xff, 0x7f])) // declares ~2 MiB
    await Promise.all([badClosed, bigClosed])
    expect(reasons.sort()).toEqual(['NET_FRAME_TOO_LARGE', 'NET_MALFORMED'])
    expect(hub.nodes).toHaveLength(1)
    expect((await app.postMessage(enc('still here'), true))[0]).toEqual(enc('still here'))
    hub.close()
    await Promise.all([good.close(), bad.close(), big.close()])
  })
})
