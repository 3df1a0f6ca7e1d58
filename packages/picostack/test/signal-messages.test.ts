/** The signalling codec: exact bytes, round trips, and typed refusals of any other input. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { KernelError } from '../src/index.ts'
import { decodeSignal, encodeSignal, type SignalMessage } from '../src/signal/messages.ts'

const id = fc.uint8Array({ minLength: 16, maxLength: 16 })
const rtc = fc.oneof(
  fc.record({
    type: fc.constantFrom('offer' as const, 'answer' as const),
    sdp: fc.string({ maxLength: 300 }),
  }),
  fc.record({
    type: fc.constant('candidate' as const),
    candidate: fc.string({ maxLength: 200 }),
    sdpMid: fc.option(fc.string({ maxLength: 64 }), { nil: null }),
    sdpMLineIndex: fc.option(fc.integer({ min: 0, max: 0xffff }), { nil: null }),
  }),
  fc.record({ type: fc.constant('refused' as const), code: fc.string({ maxLength: 64 }) }),
)
const message: fc.Arbitrary<SignalMessage> = fc.oneof(
  fc.constant({ kind: 'direct' as const }),
  fc.record({ kind: fc.constant('peers' as const), nodeIds: fc.array(id, { maxLength: 64 }) }),
  fc.record({ kind: fc.constant('forward' as const), to: id, rtc }),
  fc.record({ kind: fc.constant('forwarded' as const), from: id, rtc }),
)

describe('signalling messages', () => {
  it('encodes to the documented CBOR bytes', () => {
    expect(Buffer.from(encodeSignal({ kind: 'direct' })).toString('hex')).toBe('8101')
    const to = new Uint8Array(16).fill(0xaa)
    expect(
      Buffer.from(
        encodeSignal({ kind: 'forward', to, rtc: { type: 'offer', sdp: 'v=0' } }),
      ).toString('hex'),
    ).toBe(`8303 50${'aa'.repeat(16)} 82 01 63763d30`.replaceAll(' ', ''))
  })

  it('decodes what it encodes, for every message', () => {
    fc.assert(
      fc.property(message, (m) => {
        expect(decodeSignal(encodeSignal(m), 16 * 1024, 64)).toEqual(m)
      }),
    )
  })

  it('refuses any other bytes with a KernelError (KERNEL_PROTOCOL or KERNEL_TOO_LARGE)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          decodeSignal(bytes, 100, 64)
        } catch (err) {
          expect(err).toBeInstanceOf(KernelError)
          expect(['KERNEL_PROTOCOL', 'KERNEL_TOO_LARGE']).toContain((err as KernelError).code)
        }
      }),
    )
  })
})
