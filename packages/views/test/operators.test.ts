import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  combine,
  filter,
  fromSubscribable,
  gate,
  map,
  memo,
  next,
  type Readable,
  readable,
  settle,
  shallowEqual,
  until,
  ViewsError,
  Writable,
} from '../src/index.ts'
import { FakeTimer, record } from './helpers.ts'

describe('the subscribe contract', () => {
  it('calls the subscriber synchronously with the current value, then on each change', () => {
    const source = new Writable(1)
    const { values, stop } = record(source)
    expect(values).toEqual([1])
    source.set(2)
    source.set(2)
    source.update((n) => n + 1)
    expect(values).toEqual([1, 2, 3])
    stop()
    source.set(4)
    expect(values).toEqual([1, 2, 3])
    stop()
    expect(source.subscriberCount).toBe(0)
  })

  it('starts the source on the first subscriber and stops it after the last', () => {
    let starts = 0
    let stops = 0
    const view = readable(0, (set) => {
      starts++
      set(7)
      return () => stops++
    })
    const a = record(view)
    const b = record(view)
    expect([starts, stops]).toEqual([1, 0])
    expect(a.values).toEqual([7])
    expect(b.values).toEqual([7])
    a.stop()
    expect(stops).toBe(0)
    b.stop()
    expect([starts, stops]).toEqual([1, 1])
    expect(view.value).toBe(7)
    expect([starts, stops]).toEqual([2, 2])
  })

  it('skips a throwing subscriber and delivers values in the order they were set', () => {
    const source = new Writable(0)
    const seen: number[] = []
    source.subscribe((n) => {
      if (n === 1) source.set(2)
    })
    source.subscribe(() => {
      throw new Error('subscriber failure')
    })
    source.subscribe((n) => seen.push(n))
    source.set(1)
    expect(seen).toEqual([0, 1, 2])
    expect(source.value).toBe(2)
  })

  it('wraps any Svelte-compatible store and reads it only while subscribed', () => {
    const source = new Writable('a')
    const view = fromSubscribable({ subscribe: (fn: (v: string) => void) => source.subscribe(fn) })
    expect(view.value).toBe('a')
    expect(source.subscriberCount).toBe(0)
    const { values, stop } = record(view)
    source.set('b')
    expect(values).toEqual(['a', 'b'])
    expect(source.subscriberCount).toBe(1)
    stop()
    expect(source.subscriberCount).toBe(0)
    expect(fromSubscribable(source)).toBe(source)
  })
})

describe('map', () => {
  it('derives each value, and keeps the same result while the input is the same object', () => {
    const source = new Writable({ n: 1 })
    let calls = 0
    const doubled = map(source, ({ n }) => {
      calls++
      return { twice: n * 2 }
    })
    const first = doubled.value
    expect(first).toEqual({ twice: 2 })
    expect(doubled.value).toBe(first)
    expect(calls).toBe(1)
    const { values, stop } = record(doubled)
    source.set({ n: 5 })
    expect(values).toEqual([{ twice: 2 }, { twice: 10 }])
    expect(values[0]).toBe(first)
    stop()
  })

  it('skips a derived value equal to the last (Object.is)', () => {
    const source = new Writable(1)
    const parity = map(source, (n) => n % 2)
    const { values } = record(parity)
    source.set(3)
    source.set(4)
    expect(values).toEqual([1, 0])
  })
})

describe('combine', () => {
  it('combines an array and a record of sources, one new frozen value per change', () => {
    const a = new Writable(1)
    const b = new Writable('x')
    const pair = combine([a, b])
    const named = combine({ a, b })
    const pairs = record(pair)
    const records = record(named)
    a.set(2)
    b.set('y')
    expect(pairs.values).toEqual([
      [1, 'x'],
      [2, 'x'],
      [2, 'y'],
    ])
    expect(records.values.at(-1)).toEqual({ a: 2, b: 'y' })
    expect(Object.isFrozen(pairs.values[0])).toBe(true)
    expect(pair.value).toBe(pairs.values.at(-1))
    pairs.stop()
    records.stop()
    expect(pair.value).toBe(pair.value)
    expect([a.subscriberCount, b.subscriberCount]).toEqual([0, 0])
  })
})

describe('combine over a diamond', () => {
  it('computes once per change, after every input has its new value', () => {
    const a = new Writable(1)
    const both = combine([a, map(a, (n) => n * 10)])
    const { values, stop } = record(both)
    a.set(2)
    a.set(3)
    expect(values).toEqual([
      [1, 10],
      [2, 20],
      [3, 30],
    ])
    stop()
  })
})

describe('filter and gate', () => {
  it('filter passes only values that pass, keeping the last one (initial before any)', () => {
    const source = new Writable(1)
    const even = filter(source, (n) => n % 2 === 0, undefined)
    const { values } = record(even)
    source.set(3)
    source.set(4)
    source.set(5)
    source.set(6)
    expect(values).toEqual([undefined, 4, 6])
  })

  it('gate holds the last value while closed and catches up when it opens', () => {
    const source = new Writable('a')
    const open = new Writable(false)
    const held = gate(source, open)
    const { values, stop } = record(held)
    expect(values).toEqual(['a'])
    source.set('b')
    source.set('c')
    expect(values).toEqual(['a'])
    open.set(true)
    source.set('d')
    open.set(false)
    source.set('e')
    expect(values).toEqual(['a', 'c', 'd'])
    stop()
    expect([source.subscriberCount, open.subscriberCount]).toEqual([0, 0])
  })
})

describe('memo', () => {
  it('skips values equal to the last passed, keeping the earlier object', () => {
    const source = new Writable<number[]>([1, 2])
    const kept = memo(source, shallowEqual)
    const { values } = record(kept)
    const first = values[0]
    source.set([1, 2])
    source.set([1, 2, 3])
    expect(values).toEqual([
      [1, 2],
      [1, 2, 3],
    ])
    expect(values[0]).toBe(first)
  })

  it('shallowEqual compares one level deep', () => {
    expect(shallowEqual({ a: 1, b: 'x' }, { b: 'x', a: 1 })).toBe(true)
    expect(shallowEqual({ a: {} }, { a: {} })).toBe(false)
    expect(shallowEqual([1], { 0: 1 })).toBe(false)
    expect(shallowEqual({ a: undefined }, { b: undefined })).toBe(false)
    expect(shallowEqual(Number.NaN, Number.NaN)).toBe(true)
    expect(shallowEqual(null, {})).toBe(false)
  })
})

describe('settle', () => {
  it('passes the first value at once, then only the last of a burst after quietMs', () => {
    const timer = new FakeTimer()
    const source = new Writable(0)
    const settled = settle(source, 50, { timer })
    const { values, stop } = record(settled)
    for (let n = 1; n <= 10; n++) {
      source.set(n)
      if (n < 10) timer.advance(10)
    }
    expect(values).toEqual([0])
    timer.advance(49)
    expect(values).toEqual([0])
    timer.advance(1)
    expect(values).toEqual([0, 10])
    source.set(11)
    stop()
    expect(timer.pending.size).toBe(0)
    expect(source.subscriberCount).toBe(0)
  })

  it('refuses a negative delay with VIEWS_INVALID_INPUT', () => {
    const err = (() => {
      try {
        settle(new Writable(0), -1)
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(ViewsError)
    expect((err as ViewsError).code).toBe('VIEWS_INVALID_INPUT')
  })
})

describe('next and until', () => {
  it('next resolves with the value after the current one and unsubscribes', async () => {
    const source = new Writable(1)
    const waiting = next(source)
    source.set(2)
    source.set(3)
    await expect(waiting).resolves.toBe(2)
    expect(source.subscriberCount).toBe(0)
  })

  it('until resolves at once when the current value passes, or with the first that does', async () => {
    const source = new Writable(5)
    await expect(until(source, (n) => n > 3)).resolves.toBe(5)
    const waiting = until(source, (n) => n > 7)
    source.set(6)
    source.set(8)
    await expect(waiting).resolves.toBe(8)
    expect(source.subscriberCount).toBe(0)
  })

  it('until rejects with VIEWS_TIMEOUT after timeoutMs and releases the view', async () => {
    const timer = new FakeTimer()
    const source = new Writable(0)
    const waiting = until(source, (n) => n > 0, { timeoutMs: 100, timer })
    timer.advance(99)
    expect(source.subscriberCount).toBe(1)
    timer.advance(1)
    await expect(waiting).rejects.toMatchObject({ code: 'VIEWS_TIMEOUT' })
    expect(source.subscriberCount).toBe(0)
    expect(timer.pending.size).toBe(0)
  })

  it('a value that arrives in time clears the timeout', async () => {
    const timer = new FakeTimer()
    const source = new Writable(0)
    const waiting = next(source, { timeoutMs: 100, timer })
    source.set(1)
    await expect(waiting).resolves.toBe(1)
    expect(timer.pending.size).toBe(0)
  })

  it('refuses a negative timeoutMs with VIEWS_INVALID_INPUT', async () => {
    await expect(until(new Writable(0), () => true, { timeoutMs: -5 })).rejects.toMatchObject({
      code: 'VIEWS_INVALID_INPUT',
    })
  })
})

describe('unsubscribe releases every input', () => {
  const operators: [
    string,
    (source: Writable<number>, other: Writable<number>) => Readable<unknown>,
  ][] = [
    ['map', (s) => map(s, (n) => n + 1)],
    ['combine', (s, o) => combine([s, o])],
    ['filter', (s) => filter(s, (n) => n > 0, 0)],
    [
      'gate',
      (s, o) =>
        gate(
          s,
          map(o, (n) => n > 0),
        ),
    ],
    ['memo', (s) => memo(s)],
    ['settle', (s) => settle(s, 10, { timer: new FakeTimer() })],
    [
      'a chain of all',
      (s, o) =>
        memo(
          settle(
            gate(
              filter(
                map(combine([s, o]), ([a, b]) => a + b),
                () => true,
                0,
              ),
              map(o, () => true),
            ),
            5,
            { timer: new FakeTimer() },
          ),
        ),
    ],
  ]
  for (const [name, build] of operators) {
    it(`${name}: 10,000 subscribe/unsubscribe leave the sources' observer counts where they were`, () => {
      const source = new Writable(1)
      const other = new Writable(1)
      const view = build(source, other)
      const keep = view.subscribe(() => {})
      const before = [source.subscriberCount, other.subscriberCount]
      for (let i = 0; i < 10_000; i++) {
        const stop = view.subscribe(() => {})
        if (i % 2 === 0) source.set(i)
        stop()
      }
      expect([source.subscriberCount, other.subscriberCount]).toEqual(before)
      keep()
      expect([source.subscriberCount, other.subscriberCount]).toEqual([0, 0])
      for (let i = 0; i < 10_000; i++) view.subscribe(() => {})()
      expect([source.subscriberCount, other.subscriberCount]).toEqual([0, 0])
    })
  }

  it('property: any interleaving of subscribes and unsubscribes ends with no observer left', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constant('sub'), fc.nat(20), fc.integer()), { maxLength: 60 }),
        (steps) => {
          const source = new Writable(0)
          const view = memo(map(source, (n) => n % 3))
          const stops: (() => void)[] = []
          const seen: number[] = []
          for (const step of steps) {
            if (step === 'sub') stops.push(view.subscribe((v) => seen.push(v)))
            else if (typeof step === 'number' && step >= 0 && step < stops.length)
              stops.splice(step, 1)[0]!()
            else source.set(step as number)
          }
          for (const v of seen) expect([0, 1, 2, -1, -2]).toContain(v)
          expect(source.subscriberCount).toBe(stops.length > 0 ? 1 : 0)
          for (const stop of stops) stop()
          expect(source.subscriberCount).toBe(0)
        },
      ),
    )
  })
})
