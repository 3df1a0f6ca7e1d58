/** In-process specifics of picoWire beyond the shared conversation suite. */
import { describe, expect, it } from 'vitest'
import { isPlug, NetError, picoWire } from '../src/index.ts'
import { codeOf, enc, signal } from './conversation.ts'

describe('picoWire', () => {
  it('reports opened / isActive only once the other end has a handler', async () => {
    const [a, b] = picoWire({ id: 'w1' })
    expect([a.isActive, b.isActive, a.isClosed]).toEqual([false, false, false])
    expect(await codeOf(a.postMessage(enc('x')))).toBe('NET_NO_HANDLER')
    let aOpened = false
    a.opened.then(() => {
      aOpened = true
    })
    const bOpen = b((msg, answer) => answer?.(msg))
    await Promise.resolve()
    expect(aOpened).toBe(true)
    expect([a.isActive, b.isActive]).toEqual([true, false])
    a.open(() => {})
    await bOpen
    expect([a.isActive, b.isActive]).toEqual([true, true])
    expect([a.id, b.id]).toEqual(['w1', 'w1'])
    b.id = 'peer'
    expect(a.id).toBe('peer')
    expect(isPlug(a)).toBe(true)
    expect(isPlug(() => {})).toBe(false)
  })

  it('refuses a second handler and bad input with typed errors', async () => {
    const [a, b] = picoWire()
    b.onmessage = () => {}
    expect(() => {
      b.onmessage = () => {}
    }).toThrow(expect.objectContaining({ code: 'NET_ALREADY_OPEN' }))
    expect(() => b.open(() => {})).toThrow(expect.objectContaining({ code: 'NET_ALREADY_OPEN' }))
    expect(await codeOf(a.postMessage('text' as unknown as Uint8Array))).toBe('NET_INVALID_INPUT')
    expect(() => a.close('nope' as unknown as Error)).toThrow(
      expect.objectContaining({ code: 'NET_INVALID_INPUT' }),
    )
    expect(() => a.open(b)).toThrow(expect.objectContaining({ code: 'NET_INVALID_INPUT' }))
    expect(() => picoWire({ replyTimeoutMs: 0 })).toThrow(
      expect.objectContaining({ code: 'NET_INVALID_INPUT' }),
    )
  })

  it('hands receivers plain Uint8Arrays when given Node Buffers', async () => {
    const [a, b] = picoWire()
    b.open((msg, answer) => answer?.(Buffer.from(msg)))
    const [reply] = await a.postMessage(Buffer.from('abc'), true)
    expect(Object.getPrototypeOf(reply)).toBe(Uint8Array.prototype)
    expect(reply).toEqual(enc('abc'))
  })

  it('passes a NetError thrown by a handler unchanged and wraps others with their cause', async () => {
    const [a, b] = picoWire()
    const own = new NetError('NET_TIMEOUT', 'downstream timed out')
    const plain = new Error('plain')
    b.open((msg) => {
      throw msg[0] === 1 ? own : plain
    })
    expect(await a.postMessage(new Uint8Array([1]), true).catch((e: unknown) => e)).toBe(own)
    const wrapped = (await a.postMessage(new Uint8Array([2])).catch((e: unknown) => e)) as NetError
    expect(wrapped.code).toBe('NET_REMOTE_ERROR')
    expect(wrapped.cause).toBe(plain)
  })

  it('resolves a one-way message only after its handler settled', async () => {
    const [a, b] = picoWire()
    const release = signal()
    let handled = false
    b.open(async () => {
      await release.promise
      handled = true
    })
    const sent = a.postMessage(enc('x'))
    await Promise.resolve()
    expect(handled).toBe(false)
    release.resolve()
    await sent
    expect(handled).toBe(true)
  })

  it('refuses a second answer (NET_ANSWERED) and a late one (NET_TIMEOUT)', async () => {
    const [a, b] = picoWire({ replyTimeoutMs: 200 })
    const answers: ((m: Uint8Array) => Promise<unknown>)[] = []
    const got = signal()
    b.open((_msg, answer) => {
      if (answer) answers.push(answer)
      got.resolve()
    })
    const first = a.postMessage(enc('1'), true)
    await got.promise
    await answers[0]!(enc('ok'))
    expect((await first)[0]).toEqual(enc('ok'))
    expect(await codeOf(answers[0]!(enc('again')))).toBe('NET_ANSWERED')
    const second = a.postMessage(enc('2'), true)
    expect(await codeOf(second)).toBe('NET_TIMEOUT')
    expect(await codeOf(answers[1]!(enc('late')))).toBe('NET_TIMEOUT')
  })

  it('bounds pending replies per plug with NET_TOO_MANY_PENDING', async () => {
    const [a, b] = picoWire({ maxPendingReplies: 3 })
    const answers: ((m: Uint8Array) => Promise<unknown>)[] = []
    b.open((_msg, answer) => {
      if (answer) answers.push(answer)
    })
    const pending = [1, 2, 3].map(() => a.postMessage(enc('q'), true))
    expect(await codeOf(a.postMessage(enc('q'), true))).toBe('NET_TOO_MANY_PENDING')
    expect(await a.postMessage(enc('one-way is not bounded'))).toBeUndefined()
    await answers[0]!(enc('r'))
    await pending[0]
    const fourth = a.postMessage(enc('q'), true)
    await Promise.resolve()
    await answers[3]!(enc('r4'))
    expect((await fourth)[0]).toEqual(enc('r4'))
    a.close()
    for (const p of pending.slice(1)) expect(await codeOf(p)).toBe('NET_DISCONNECTED')
  })

  it('rejects opened and refuses handlers once closed', async () => {
    const [a, b] = picoWire()
    a.close()
    expect(await codeOf(a.opened)).toBe('NET_DISCONNECTED')
    expect(await a.closed).toBeUndefined()
    expect(() => b.open(() => {})).toThrow(expect.objectContaining({ code: 'NET_DISCONNECTED' }))
    a.close(new Error('again'))
    expect(await b.closed).toBeUndefined()
  })

  it('splices three wires in a row: alice.spawnWire()(bob.spawnWire()) style', async () => {
    const [alice, aliceLoose] = picoWire()
    const [mid1, mid2] = picoWire()
    const [bobLoose, bob] = picoWire()
    aliceLoose(mid1)
    mid2(bobLoose)
    bob.open((msg, answer) => answer?.(enc(`bob got ${msg.length}`)))
    alice.open(() => {})
    expect((await alice.postMessage(new Uint8Array(3), true))[0]).toEqual(enc('bob got 3'))
    alice.close()
    expect(await bob.closed).toBeUndefined()
    expect(mid1.isClosed && mid2.isClosed && bob.isClosed).toBe(true)
  })
})
