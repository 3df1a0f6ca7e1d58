/**
 * The conversation suite: one set of behaviours every transport must show, run over
 * in-process wires, TCP (with chunk chaos) and WebSocket by the *.test.ts files.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { NetError, type Plug, picoWire, type Reply } from '../src/index.ts'

/** Two connected app-side plugs, both still unopened, and how to tear them down. */
export interface Pair {
  a: Plug
  b: Plug
  teardown(): Promise<void>
}

export type PairFactory = (options?: { replyTimeoutMs?: number }) => Promise<Pair>

export const enc = (text: string) => new TextEncoder().encode(text)
export const dec = (bytes: Uint8Array) => new TextDecoder().decode(bytes)
const num = (bytes: Uint8Array) => Number(dec(bytes))

/** A promise plus its resolver, for waiting on a handler. */
export function signal<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => {
    resolve = r
  })
  return { promise, resolve }
}

export async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise
  } catch (err) {
    expect(err).toBeInstanceOf(NetError)
    return (err as NetError).code
  }
  return undefined
}

/** Continues a conversation: answers n with n + 1 until `last`, recording what arrives. */
async function converse(step: Reply | undefined, seen: number[], last: number): Promise<void> {
  while (step) {
    const n = num(step[0])
    seen.push(n)
    const answer = step[1]
    if (!answer) return
    step = await answer(enc(String(n + 1)), n + 1 < last)
  }
}

function randomBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length)
  let x = seed
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    out[i] = x >>> 24
  }
  return out
}

/**
 * @param exactReasons - close reasons arrive as the same Error object (in-process) rather
 *   than as a `NET_REMOTE_ERROR` carrying the message (byte transports)
 */
export function conversationSuite(name: string, connect: PairFactory, exactReasons: boolean) {
  describe(`conversation suite: ${name}`, { timeout: 20_000 }, () => {
    let pair: Pair | undefined
    const open = async (options?: { replyTimeoutMs?: number }) => {
      pair = await connect(options)
      return pair
    }
    afterEach(async () => {
      await pair?.teardown()
      pair = undefined
    })

    const expectReason = (reason: Error | undefined, sent: Error) => {
      if (exactReasons) expect(reason).toBe(sent)
      else {
        expect(reason).toBeInstanceOf(NetError)
        expect((reason as NetError).code).toBe('NET_REMOTE_ERROR')
        expect(reason?.message).toContain(sent.message)
      }
    }

    it('answers a request with the exact reply bytes and no follow-up', async () => {
      const { a, b } = await open()
      b.open((msg, answer) => answer?.(enc(dec(msg).toUpperCase())))
      a.open(() => {})
      const [reply, next, at] = await a.postMessage(enc('hello'), true)
      expect(reply).toEqual(enc('HELLO'))
      expect(Object.getPrototypeOf(reply)).toBe(Uint8Array.prototype)
      expect(next).toBeUndefined()
      expect(at).toBe(a)
    })

    it('delivers one-way messages in order, both directions', async () => {
      const { a, b } = await open()
      const atB: string[] = []
      const atA: string[] = []
      const doneB = signal()
      const doneA = signal()
      b.open((msg) => {
        atB.push(dec(msg))
        if (atB.length === 50) doneB.resolve()
      })
      a.open((msg) => {
        atA.push(dec(msg))
        if (atA.length === 50) doneA.resolve()
      })
      for (let i = 0; i < 50; i++) {
        expect(
          await Promise.all([a.postMessage(enc(`a${i}`)), b.postMessage(enc(`b${i}`))]),
        ).toEqual([undefined, undefined])
      }
      await Promise.all([doneA.promise, doneB.promise])
      expect(atB).toEqual(Array.from({ length: 50 }, (_, i) => `a${i}`))
      expect(atA).toEqual(Array.from({ length: 50 }, (_, i) => `b${i}`))
    })

    it('runs multi-step conversations as promise chains, several at once', async () => {
      const { a, b } = await open()
      const seenB: number[][] = []
      b.open(async (msg, answer, plug) => {
        expect(plug).toBe(b)
        const seen: number[] = []
        seenB.push(seen)
        await converse([msg, answer, plug], seen, 10)
      })
      a.open(() => {})
      const seenA = await Promise.all(
        [0, 1, 2].map(async () => {
          const seen: number[] = []
          await converse(await a.postMessage(enc('0'), true), seen, 10)
          return seen
        }),
      )
      for (const seen of seenA) expect(seen).toEqual([1, 3, 5, 7, 9])
      await expect
        .poll(() => seenB.map((s) => s.join()))
        .toEqual(['0,2,4,6,8,10', '0,2,4,6,8,10', '0,2,4,6,8,10'])
    })

    it('carries payloads of every size exactly, many requests in flight', async () => {
      const { a, b } = await open()
      b.open((msg, answer) => answer?.(msg.slice().reverse()))
      a.open(() => {})
      const sizes = [0, 1, 127, 128, 16_383, 16_384, 65_536, 200_000]
      const payloads = sizes.map((size, i) => randomBytes(size, i + 1))
      for (let i = 0; i < 200; i++) payloads.push(enc(`request ${i}`))
      const replies = await Promise.all(payloads.map((p) => a.postMessage(p, true)))
      replies.forEach(([reply], i) => {
        expect(reply).toEqual(payloads[i]!.slice().reverse())
      })
    })

    it('fails the sender with NET_REMOTE_ERROR when a handler throws; the wire survives', async () => {
      const { a, b } = await open()
      b.open(async (msg, answer) => {
        const text = dec(msg)
        if (text === 'throw') throw new Error('boom')
        if (text === 'reject') await Promise.reject(new Error('async boom'))
        if (text === 'refuse') return answer?.reject(new Error('refused'))
        await answer?.(enc(`ok ${text}`))
      })
      a.open(() => {})
      for (const [text, message] of [
        ['throw', 'boom'],
        ['reject', 'async boom'],
        ['refuse', 'refused'],
      ]) {
        const err = await a.postMessage(enc(text!), true).catch((e: unknown) => e)
        expect(err).toBeInstanceOf(NetError)
        expect((err as NetError).code).toBe('NET_REMOTE_ERROR')
        expect((err as NetError).message).toContain(message)
      }
      expect((await a.postMessage(enc('still'), true))[0]).toEqual(enc('ok still'))
      expect(a.isClosed).toBe(false)
    })

    it('fails a follow-up step with NET_REMOTE_ERROR when the other side rejects it', async () => {
      const { a, b } = await open()
      const failed = signal<unknown>()
      b.open((_msg, answer) => {
        answer?.(enc('question'), true).catch(failed.resolve)
      })
      a.open(() => {})
      const [question, next] = await a.postMessage(enc('start'), true)
      expect(question).toEqual(enc('question'))
      next?.reject(new Error('no thanks'))
      const err = (await failed.promise) as NetError
      expect(err.code).toBe('NET_REMOTE_ERROR')
      expect(err.message).toContain('no thanks')
    })

    it('times out only the unanswered request with NET_TIMEOUT', async () => {
      const { a, b } = await open({ replyTimeoutMs: 500 })
      b.open((msg, answer) => {
        if (dec(msg) !== 'ignore me') answer?.(msg)
      })
      a.open(() => {})
      const ignored = a.postMessage(enc('ignore me'), true)
      const answered = a.postMessage(enc('answer me'), true)
      expect((await answered)[0]).toEqual(enc('answer me'))
      expect(await codeOf(ignored)).toBe('NET_TIMEOUT')
      expect((await a.postMessage(enc('after'), true))[0]).toEqual(enc('after'))
    })

    for (const closer of ['a', 'b'] as const) {
      it(`closes cleanly from ${closer}: pending requests on both sides reject NET_DISCONNECTED`, async () => {
        const { a, b } = await open()
        const near = closer === 'a' ? a : b
        const far = closer === 'a' ? b : a
        const gotNear = signal()
        const gotFar = signal()
        near.open(() => gotNear.resolve())
        far.open(() => gotFar.resolve())
        const fromNear = near.postMessage(enc('never answered'), true)
        const fromFar = far.postMessage(enc('never answered'), true)
        await Promise.all([gotNear.promise, gotFar.promise])
        near.close()
        expect(await codeOf(fromNear)).toBe('NET_DISCONNECTED')
        expect(await codeOf(fromFar)).toBe('NET_DISCONNECTED')
        expect(await near.closed).toBeUndefined()
        expect(await far.closed).toBeUndefined()
        expect(far.isClosed).toBe(true)
        expect(await codeOf(far.postMessage(enc('late')))).toBe('NET_DISCONNECTED')
        expect(await codeOf(near.postMessage(enc('late'), true))).toBe('NET_DISCONNECTED')
      })

      it(`closes with an error from ${closer}: the other end learns the reason`, async () => {
        const { a, b } = await open()
        const near = closer === 'a' ? a : b
        const far = closer === 'a' ? b : a
        const got = signal()
        near.open(() => {})
        far.open(() => got.resolve())
        const pending = near.postMessage(enc('never answered'), true)
        await got.promise
        const reason = new Error('going away')
        near.close(reason)
        const err = await pending.catch((e: unknown) => e)
        expect((err as NetError).code).toBe('NET_DISCONNECTED')
        expect((err as NetError).cause).toBe(reason)
        expect(await near.closed).toBe(reason)
        expectReason(await far.closed, reason)
      })
    }

    it('splices: a plug called with another plug relays conversations and closes', async () => {
      const { a, b } = await open()
      const [c, d] = picoWire()
      b(c)
      const seenD: number[] = []
      d.open(async (msg, answer) => {
        if (dec(msg) === 'fail') throw new Error('deep failure')
        await converse([msg, answer, d], seenD, 6)
      })
      a.open(() => {})
      const seenA: number[] = []
      await converse(await a.postMessage(enc('0'), true), seenA, 6)
      expect(seenA).toEqual([1, 3, 5])
      await expect.poll(() => seenD).toEqual([0, 2, 4, 6])
      const err = (await a.postMessage(enc('fail'), true).catch((e: unknown) => e)) as NetError
      expect(err.code).toBe('NET_REMOTE_ERROR')
      expect(err.message).toContain('deep failure')
      const reason = new Error('spliced end gone')
      d.close(reason)
      expect(await c.closed).toBe(reason)
      expectReason(await a.closed, reason)
    })
  })
}
