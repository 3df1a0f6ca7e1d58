/**
 * The slot rule, as a property over random admissions, messages, releases and time: the
 * limits always hold, a newcomer is refused only when its scope (its address, or the
 * relay) is full and nobody in it is idle, and the connection that gives way is the one of
 * that scope idle longest (at least `idleAfterMs`), never one still upgrading.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type SlotHolder, Slots } from '../src/slots.ts'

interface Holder extends SlotHolder {
  lastMessageAt: number | undefined
}

const LIMITS = { maxConnections: 6, maxConnectionsPerIp: 3, idleAfterMs: 100 }
const IPS = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4']

type Op =
  | { kind: 'admit'; ip: string; upgrading: boolean }
  | { kind: 'message'; pick: number }
  | { kind: 'release'; pick: number }
  | { kind: 'wait'; ms: number }

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('admit' as const),
    ip: fc.constantFrom(...IPS),
    upgrading: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('message' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 1, max: 150 }) }),
)

describe('Slots', () => {
  it('keeps the limits, refuses only when nobody is idle, evicts the idlest of the scope', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        let now = 0
        const slots = new Slots<Holder>(LIMITS, () => now)
        const held: Holder[] = []
        const idle = (h: Holder) =>
          h.lastMessageAt !== undefined && now - h.lastMessageAt >= LIMITS.idleAfterMs
        for (const step of ops) {
          if (step.kind === 'wait') now += step.ms
          else if (step.kind === 'message' && held.length) {
            held[step.pick % held.length]!.lastMessageAt = now
          } else if (step.kind === 'release' && held.length) {
            const [gone] = held.splice(step.pick % held.length, 1)
            slots.release(gone!)
            slots.release(gone!) // twice is a no-op
          } else if (step.kind === 'admit') {
            const holder: Holder = { ip: step.ip, lastMessageAt: step.upgrading ? undefined : now }
            const sameIp = held.filter((h) => h.ip === step.ip)
            const scope =
              sameIp.length >= LIMITS.maxConnectionsPerIp
                ? sameIp
                : held.length >= LIMITS.maxConnections
                  ? held
                  : undefined
            const admission = slots.admit(holder)
            if (!scope) {
              expect(admission).toEqual({ admitted: true, evicted: undefined })
            } else if (!scope.some(idle)) {
              expect(admission).toEqual({
                admitted: false,
                refusal: scope === sameIp ? 'MAX_CONNECTIONS_PER_IP' : 'MAX_CONNECTIONS',
              })
            } else {
              expect(admission.admitted).toBe(true)
              const evicted = admission.admitted ? admission.evicted : undefined
              expect(evicted && scope.includes(evicted) && idle(evicted)).toBe(true)
              const idlest = Math.min(...scope.filter(idle).map((h) => h.lastMessageAt as number))
              expect(evicted?.lastMessageAt).toBe(idlest)
              held.splice(held.indexOf(evicted!), 1)
            }
            // An upgrading holder gets a message time from a later 'message' (its upgrade).
            if (admission.admitted) held.push(holder)
          }
          expect(slots.size).toBe(held.length)
          expect(slots.size).toBeLessThanOrEqual(LIMITS.maxConnections)
          for (const ip of IPS) {
            expect(slots.heldBy(ip)).toBe(held.filter((h) => h.ip === ip).length)
            expect(slots.heldBy(ip)).toBeLessThanOrEqual(LIMITS.maxConnectionsPerIp)
          }
        }
      }),
      { numRuns: 500 },
    )
  })
})

describe('Slots by address scope', () => {
  it('counts an IPv6 /64 as one address, and an IPv4-mapped address as its IPv4', () => {
    const slots = new Slots<Holder>({ ...LIMITS, maxConnections: 100 }, () => 0)
    const busy = (ip: string): Holder => ({ ip, lastMessageAt: 0 })
    for (let i = 1; i <= LIMITS.maxConnectionsPerIp; i++) {
      expect(slots.admit(busy(`2001:db8:0:1::${i}`)).admitted).toBe(true)
    }
    expect(slots.admit(busy('2001:db8:0:1:ffff::9'))).toEqual({
      admitted: false,
      refusal: 'MAX_CONNECTIONS_PER_IP',
    })
    expect(slots.admit(busy('2001:db8:0:2::1')).admitted).toBe(true) // another /64
    for (let i = 0; i < 2; i++) expect(slots.admit(busy('10.0.0.9')).admitted).toBe(true)
    expect(slots.admit(busy('::ffff:10.0.0.9')).admitted).toBe(true)
    expect(slots.admit(busy('::ffff:10.0.0.9')).admitted).toBe(false) // the same host, 4th
  })
})
