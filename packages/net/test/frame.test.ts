import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { concatBytes } from '../src/bytes.ts'
import {
  encodeFrame,
  FLAG_CLOSE,
  FLAG_ERROR,
  FLAG_REPLY_EXPECTED,
  type Frame,
  FrameDecoder,
  MIN_PARTIAL_FRAME_BYTES,
  NetError,
} from '../src/index.ts'

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

/** Valid frames: data (with or without a reply port), error replies, close frames. */
const frameArb: fc.Arbitrary<Frame> = fc.oneof(
  fc
    .record({
      dstPort: fc.integer({ min: 0, max: 0xffff }),
      srcPort: fc.integer({ min: 0, max: 0xffff }),
      flags: fc.constant(0),
      payload: fc.uint8Array({ maxLength: 300 }),
    })
    .map((f) => ({ ...f, flags: f.srcPort ? FLAG_REPLY_EXPECTED : 0 })),
  fc.record({
    dstPort: fc.integer({ min: 1, max: 0xffff }),
    srcPort: fc.constant(0),
    flags: fc.constant(FLAG_ERROR),
    payload: fc.uint8Array({ maxLength: 50 }),
  }),
  fc.constant({ dstPort: 0, srcPort: 0, flags: FLAG_CLOSE, payload: new Uint8Array(0) }),
)

/** Feeds `bytes` cut at `cuts`; returns the frames, or the error code it stopped with. */
function feed(decoder: FrameDecoder, bytes: Uint8Array, cuts: number[], maxFrameBytes: number) {
  const frames: Frame[] = []
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((x, y) => x - y)
  let from = 0
  /** Bytes pushed since the last complete frame: at least those of the frame in progress. */
  let sinceFrame = 0
  for (const to of [...points, bytes.length]) {
    try {
      const completed = decoder.push(bytes.subarray(from, to))
      sinceFrame = completed.length > 0 ? to - from : sinceFrame + (to - from)
      frames.push(...completed)
    } catch (err) {
      expect(err).toBeInstanceOf(NetError)
      return { frames, code: (err as NetError).code }
    } finally {
      // memory bound: one partial frame, in a buffer at most twice what arrived of it
      expect(decoder.bufferedBytes).toBeLessThanOrEqual(maxFrameBytes + 9)
      expect(decoder.bufferedBytes).toBeLessThanOrEqual(2 * sinceFrame + MIN_PARTIAL_FRAME_BYTES)
    }
    from = to
  }
  return { frames, code: undefined }
}

describe('frame codec', () => {
  it('encodes the documented byte layout', () => {
    const frame = encodeFrame({
      dstPort: 0x0102,
      srcPort: 0x0304,
      flags: FLAG_REPLY_EXPECTED,
      payload: new Uint8Array([0xaa, 0xbb]),
    })
    expect(hex(frame)).toBe('07' + '0102' + '0304' + '01' + 'aabb')
    const big = encodeFrame({ dstPort: 0, srcPort: 0, flags: 0, payload: new Uint8Array(200) })
    expect(hex(big.subarray(0, 7))).toBe('cd01' + '0000' + '0000' + '00') // 205 = 0xcd 0x01
    expect(big.length).toBe(207)
    const [decoded] = new FrameDecoder().push(frame)
    expect(decoded).toEqual({
      dstPort: 0x0102,
      srcPort: 0x0304,
      flags: FLAG_REPLY_EXPECTED,
      payload: new Uint8Array([0xaa, 0xbb]),
    })
  })

  it('refuses to encode invalid headers and oversize payloads', () => {
    const bad: [Partial<Frame>, string][] = [
      [{ srcPort: 5 }, 'NET_INVALID_INPUT'], // a reply port without the flag
      [{ flags: FLAG_REPLY_EXPECTED }, 'NET_INVALID_INPUT'], // the flag without a port
      [{ dstPort: 0x10000 }, 'NET_INVALID_INPUT'],
      [{ flags: 0x08 }, 'NET_INVALID_INPUT'],
      [{ flags: FLAG_ERROR }, 'NET_INVALID_INPUT'], // error reply to port 0
      [{ flags: FLAG_CLOSE, dstPort: 1 }, 'NET_INVALID_INPUT'],
      [{ payload: new Uint8Array(11) }, 'NET_FRAME_TOO_LARGE'],
    ]
    for (const [patch, code] of bad) {
      const frame = { dstPort: 0, srcPort: 0, flags: 0, payload: new Uint8Array(1), ...patch }
      expect(() => encodeFrame(frame, 10)).toThrow(expect.objectContaining({ code }))
    }
  })

  it('rejects malformed input with NET_MALFORMED and stays failed', () => {
    const cases: [number[], string][] = [
      [[4, 0, 0, 0, 0], 'NET_MALFORMED'], // shorter than the header
      [[0x85, 0x00], 'NET_MALFORMED'], // non-minimal varint
      [[0xff, 0xff, 0xff, 0xff], 'NET_FRAME_TOO_LARGE'],
      [[5, 0, 0, 0, 0, 0x80], 'NET_MALFORMED'], // reserved flag
      [[6, 0, 0, 0, 0, FLAG_CLOSE, 1], 'NET_MALFORMED'], // clean close with payload
      [[5, 0, 1, 0, 0, FLAG_ERROR | FLAG_REPLY_EXPECTED], 'NET_MALFORMED'],
    ]
    for (const [bytes, code] of cases) {
      const decoder = new FrameDecoder()
      expect(() => decoder.push(new Uint8Array(bytes))).toThrow(expect.objectContaining({ code }))
      expect(() => decoder.push(new Uint8Array([5, 0, 0, 0, 0, 0]))).toThrow(
        expect.objectContaining({ code }),
      )
    }
  })

  it('fails an oversize declared length before buffering any of it', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 1000 })
    // 1006 = 1000 + header + 1: declared in two varint bytes, refused at the second
    expect(() => decoder.push(new Uint8Array([0xee, 0x07]))).toThrow(
      expect.objectContaining({ code: 'NET_FRAME_TOO_LARGE' }),
    )
    expect(decoder.bufferedBytes).toBe(0)
    expect(
      new FrameDecoder({ maxFrameBytes: 1000 }).push(
        encodeFrame({ dstPort: 0, srcPort: 0, flags: 0, payload: new Uint8Array(1000) }, 1000),
      ),
    ).toHaveLength(1)
  })

  it('holds what arrived of a declared frame, not its declared length (85 80 40 = 1 MiB)', () => {
    const decoder = new FrameDecoder()
    const frame = encodeFrame({
      dstPort: 0,
      srcPort: 0,
      flags: 0,
      payload: new Uint8Array(1024 * 1024).fill(7),
    })
    expect(hex(frame.subarray(0, 3))).toBe('858040') // 5 + 1 MiB
    expect(decoder.push(frame.subarray(0, 3))).toEqual([])
    expect(decoder.bufferedBytes).toBe(0)
    expect(decoder.push(frame.subarray(3, 4))).toEqual([])
    expect(decoder.bufferedBytes).toBe(MIN_PARTIAL_FRAME_BYTES)
    // one byte at a time: the buffer stays within twice what arrived
    const overBound: number[] = []
    for (let at = 4; at < 20_000; at++) {
      decoder.push(frame.subarray(at, at + 1))
      const received = at + 1 - 3
      if (decoder.bufferedBytes > Math.max(2 * received, MIN_PARTIAL_FRAME_BYTES)) {
        overBound.push(received)
      }
    }
    expect(overBound).toEqual([])
    expect(decoder.bufferedBytes).toBe(32_768) // 19,997 bytes arrived
    const [decoded] = decoder.push(frame.subarray(20_000))
    expect(Buffer.from(decoded!.payload).equals(Buffer.alloc(1024 * 1024, 7))).toBe(true)
    expect(decoded!.payload.buffer.byteLength).toBe(1024 * 1024 + 5) // filled exactly
    expect(decoder.bufferedBytes).toBe(0)
  })

  it('assembles frames from fresh chunks (large pieces kept as views) into payloads of their own', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 40_000 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (sizes, cuts) => {
          const frames = sizes.map((size, n) => ({
            dstPort: 0,
            srcPort: 0,
            flags: 0,
            payload: new Uint8Array(size).map((_, i) => (i * 31 + n) & 0xff),
          }))
          const bytes = concatBytes(frames.map((f) => encodeFrame(f)))
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((x, y) => x - y)
          const chunks: Uint8Array[] = []
          let from = 0
          for (const to of [...points, bytes.length]) {
            chunks.push(bytes.slice(from, to)) // each chunk in a buffer of its own, as sockets give them
            from = to
          }
          const decoder = new FrameDecoder()
          const decoded: Frame[] = []
          let sinceFrame = 0
          for (const chunk of chunks) {
            const completed = decoder.push(chunk)
            sinceFrame = completed.length > 0 ? chunk.length : sinceFrame + chunk.length
            decoded.push(...completed)
            expect(decoder.bufferedBytes).toBeLessThanOrEqual(
              2 * sinceFrame + MIN_PARTIAL_FRAME_BYTES,
            )
          }
          for (const chunk of chunks) chunk.fill(0) // payloads must not alias the chunks
          expect(decoded.length).toBe(frames.length)
          decoded.forEach((f, n) => {
            expect(Buffer.from(f.payload).equals(Buffer.from(frames[n]!.payload))).toBe(true)
          })
        },
      ),
      { numRuns: 200 },
    )
  })

  it('decodes any frame sequence, however the bytes are cut', () => {
    fc.assert(
      fc.property(
        fc.array(frameArb, { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (frames, cuts) => {
          const bytes = concatBytes(frames.map((f) => encodeFrame(f)))
          const result = feed(new FrameDecoder(), bytes, cuts, 1024 * 1024)
          expect(result.code).toBeUndefined()
          expect(result.frames).toEqual(frames)
          for (const f of result.frames) {
            expect(Object.getPrototypeOf(f.payload)).toBe(Uint8Array.prototype)
          }
        },
      ),
      { numRuns: 300 },
    )
  })

  it('turns random bytes into frames or a typed error, with bounded memory', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2000 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.integer({ min: 0, max: 512 }),
        (bytes, cuts, maxFrameBytes) => {
          const result = feed(new FrameDecoder({ maxFrameBytes }), bytes, cuts, maxFrameBytes)
          expect([undefined, 'NET_MALFORMED', 'NET_FRAME_TOO_LARGE']).toContain(result.code)
          for (const f of result.frames) expect(f.payload.length).toBeLessThanOrEqual(maxFrameBytes)
        },
      ),
      { numRuns: 1000 },
    )
  })

  it('turns mutated valid streams into frames or a typed error, with bounded memory', () => {
    fc.assert(
      fc.property(
        fc.array(frameArb, { minLength: 1, maxLength: 10 }),
        fc.array(
          fc.tuple(
            fc.nat(),
            fc.integer({ min: 0, max: 255 }),
            fc.constantFrom('set', 'insert', 'delete'),
          ),
          {
            minLength: 1,
            maxLength: 5,
          },
        ),
        fc.array(fc.nat(), { maxLength: 20 }),
        (frames, mutations, cuts) => {
          const bytes = [...concatBytes(frames.map((f) => encodeFrame(f)))]
          for (const [at, value, kind] of mutations) {
            const i = at % (bytes.length + 1)
            if (kind === 'set') bytes[Math.min(i, bytes.length - 1)] = value
            else if (kind === 'insert') bytes.splice(i, 0, value)
            else bytes.splice(i, 1)
          }
          const result = feed(
            new FrameDecoder({ maxFrameBytes: 300 }),
            new Uint8Array(bytes),
            cuts,
            300,
          )
          expect([undefined, 'NET_MALFORMED', 'NET_FRAME_TOO_LARGE']).toContain(result.code)
        },
      ),
      { numRuns: 1000 },
    )
  })
})
