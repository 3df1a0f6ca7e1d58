import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { EventQueue, linkProfile, Prng, type SimError, stableJson } from '../src/index.ts'
import { todoSimulator } from './helpers.ts'

const code = (fn: () => unknown) => {
  try {
    fn()
  } catch (err) {
    return (err as SimError).code
  }
  return undefined
}

describe('EventQueue', () => {
  it('pops by (time, scheduling order), skipping cancelled events', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.boolean()), { maxLength: 200 }),
        (entries) => {
          const queue = new EventQueue()
          const events = entries.map(([time, cancel], i) => {
            const event = queue.push(time, () => i)
            if (cancel) event.cancelled = true
            return event
          })
          const expected = events
            .filter((e) => !e.cancelled)
            .sort((a, b) => a.time - b.time || a.seq - b.seq)
          const popped = []
          for (let e = queue.pop(); e; e = queue.pop()) popped.push(e)
          expect(popped).toEqual(expected)
        },
      ),
    )
  })
})

describe('Prng', () => {
  it('repeats for a seed, differs across seeds, and forks by label', () => {
    const draws = (p: Prng) => Array.from({ length: 8 }, () => p.uint32())
    expect(draws(new Prng('s'))).toEqual(draws(new Prng('s')))
    expect(draws(new Prng('s'))).not.toEqual(draws(new Prng('t')))
    const a = new Prng('s')
    a.uint32()
    expect(draws(a.fork('x'))).toEqual(draws(new Prng('s').fork('x')))
    expect(new Prng(1).bytes(5)).toHaveLength(5)
  })

  it('keeps int() within its bounds', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -50, max: 50 }),
        fc.nat(100),
        fc.string(),
        (min, span, seed) => {
          const value = new Prng(seed).int(min, min + span)
          expect(value).toBeGreaterThanOrEqual(min)
          expect(value).toBeLessThanOrEqual(min + span)
        },
      ),
    )
    expect(code(() => new Prng(1).int(3, 2))).toBe('SIM_INVALID_INPUT')
    expect(code(() => new Prng(1).pick([]))).toBe('SIM_INVALID_INPUT')
  })
})

describe('inputs and states', () => {
  it('refuses bad link profiles and options', () => {
    expect(code(() => linkProfile({ loss: 0.95 }))).toBe('SIM_INVALID_INPUT')
    expect(code(() => linkProfile({ latencyMs: -1 }))).toBe('SIM_INVALID_INPUT')
    expect(code(() => linkProfile({ bandwidthBytesPerSec: 0 }))).toBe('SIM_INVALID_INPUT')
    expect(code(() => todoSimulator({ links: [5, 3] }))).toBe('SIM_INVALID_INPUT')
    expect(code(() => todoSimulator({ links: [3, 9], maxConnections: 8 }))).toBe(
      'SIM_INVALID_INPUT',
    )
  })

  it('names peers once and checks their states', async () => {
    const sim = todoSimulator()
    const alice = sim.launch('alice')
    expect(code(() => sim.launch('alice'))).toBe('SIM_DUPLICATE_PEER')
    expect(code(() => sim.peer('nobody'))).toBe('SIM_INVALID_INPUT')
    expect(code(() => alice.crash())).toBe('SIM_PEER_STATE') // not booted yet
    await sim.run({ until: 100 })
    expect(alice.running).toBe(true)
    expect(code(() => alice.restart())).toBe('SIM_PEER_STATE')
    alice.crash()
    expect(code(() => alice.leave())).toBe('SIM_PEER_STATE')
    expect(code(() => alice.setTimeout(() => {}, 1))).toBe('SIM_PEER_STATE')
    await sim.close()
    await expect(sim.run({ until: 200 })).rejects.toMatchObject({ code: 'SIM_CLOSED' })
  })

  it('fails the run when a callback fails, and when one waits for virtual time', async () => {
    const failing = todoSimulator()
    failing.launch('alice', {}, () => {
      throw new Error('boom')
    })
    await expect(failing.run({ until: 1000 })).rejects.toMatchObject({
      code: 'SIM_CALLBACK_FAILED',
      cause: { message: 'boom' },
    })
    await failing.close()
    const waiting = todoSimulator({ stallTimeoutMs: 200 })
    waiting.launch(
      'alice',
      {},
      (peer) => new Promise((resolve) => peer.setTimeout(() => resolve(undefined), 10)),
    )
    await expect(waiting.run({ until: 1000 })).rejects.toMatchObject({ code: 'SIM_STALLED' })
    await waiting.close()
  })

  it('compares states regardless of key order', () => {
    expect(stableJson({ b: 1, a: { d: 2, c: [1, { f: 1, e: 2 }] } })).toBe(
      stableJson({ a: { c: [1, { e: 2, f: 1 }], d: 2 }, b: 1 }),
    )
  })
})
