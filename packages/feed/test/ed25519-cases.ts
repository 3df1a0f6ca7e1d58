/**
 * (key, message, signature) triples on every edge of Ed25519 verification, with the verdict
 * of this package's rule (docs/block-format.md, "Signatures"): the points of small order in
 * all their encodings, keys and R with a torsion component, edge values of S, the identity
 * forgery, the published vectors of "Taming the many EdDSAs" and of C2SP CCTV, and honest
 * signatures.
 * Shared by the differential tests in Node and in Chromium.
 */
import { readFileSync } from 'node:fs'
import * as noble from '@noble/ed25519'
import { sha512 } from '@noble/hashes/sha2.js'
import { fromHex, toHex } from '../src/index.ts'

noble.hashes.sha512 = sha512

/** One triple, hex-encoded (so it also travels into a browser page as JSON). */
export interface Ed25519Case {
  /** What the triple exercises. */
  label: string
  /** Public key, 32 B. */
  key: string
  message: string
  /** Signature, 64 B. */
  sig: string
  /** The rule's verdict. */
  valid: boolean
}

const { n: L, p: P } = noble.Point.CURVE()
const { Point } = noble

/** Bytes as a little-endian number, and back (32 B). */
const le = (bytes: Uint8Array): bigint => BigInt(`0x${toHex(bytes.slice().reverse()) || '0'}`)
const le32 = (n: bigint): Uint8Array => fromHex(n.toString(16).padStart(64, '0')).reverse()
const concat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]))
const utf8 = (text: string) => new TextEncoder().encode(text)

/** `k = SHA-512(R || A || M) mod L`, over the bytes as sent. */
const challenge = (r: Uint8Array, key: Uint8Array, message: Uint8Array): bigint =>
  le(sha512(concat(r, key, message))) % L

/** A point of order 8 (a fact of the curve); its multiples are the 8 points of small order. */
const ORDER_8 = Point.fromHex('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a')

/** The 8 points of small order: `[i]T` for `i` in 0..7, `T` of order 8. */
export const SMALL_ORDER_POINTS: noble.Point[] = Array.from({ length: 8 }, (_, i) =>
  i === 0 ? Point.ZERO : ORDER_8.multiply(BigInt(i), false),
)

/**
 * Every 32-byte encoding that decodes (leniently) to `point`: the canonical one, `y + p`
 * where that is below 2^255, and the sign bit set on `x = 0` ("negative zero").
 */
function encodingsOf(point: noble.Point): Uint8Array[] {
  const canonical = point.toBytes()
  const sign = canonical[31]! & 0x80
  const y = le(canonical) & ((1n << 255n) - 1n)
  const ys = y + P < 1n << 255n ? [y, y + P] : [y]
  const signs = point.x === 0n ? [0, 0x80] : [sign]
  return ys.flatMap((value) =>
    signs.map((s) => {
      const bytes = le32(value)
      bytes[31]! |= s
      return bytes
    }),
  )
}

/** The 14 encodings of the 8 points of small order (8 canonical, 6 not), as hex. */
export const SMALL_ORDER_ENCODINGS: string[] = SMALL_ORDER_POINTS.flatMap(encodingsOf).map(toHex)

/** An honest signer: seed, secret scalar `a`, public key `A = [a]B`. */
function signer(seedByte: number) {
  const seed = new Uint8Array(32).fill(seedByte)
  const { scalar, pointBytes } = noble.utils.getExtendedPublicKey(seed)
  return { seed, a: scalar, key: pointBytes, point: Point.BASE.multiply(scalar) }
}

/** `R || S` with `S` as a number (reduced mod 2^256 only). */
const signature = (r: Uint8Array, s: bigint) => concat(r, le32(s % (1n << 256n)))

function honestCases(): Ed25519Case[] {
  const cases: Ed25519Case[] = []
  for (const seedByte of [1, 2, 0x7e, 0xff]) {
    const { seed, key } = signer(seedByte)
    for (const text of ['', 'a block body', 'x'.repeat(300)]) {
      const message = utf8(text)
      cases.push({
        label: `honest signature (seed ${seedByte}, ${message.length} B)`,
        key: toHex(key),
        message: toHex(message),
        sig: toHex(noble.sign(message, seed)),
        valid: true,
      })
    }
  }
  return cases
}

/** The forgery of issue 12: `R` = identity, `S` = 0 under the identity key, any message. */
export const IDENTITY_FORGERY = {
  key: `01${'00'.repeat(31)}`,
  sig: `01${'00'.repeat(63)}`,
}

function forgeryCases(): Ed25519Case[] {
  return ['', 'any message', 'another message'].map((text) => ({
    label: `identity key, R = identity, S = 0 (${JSON.stringify(text)})`,
    ...IDENTITY_FORGERY,
    message: toHex(utf8(text)),
    valid: false,
  }))
}

/** Small-order keys (every encoding) with small-order R (every encoding) and S = 0 or 1. */
function smallOrderKeyCases(): Ed25519Case[] {
  const message = utf8('small order')
  const base = Point.BASE.toBytes()
  return SMALL_ORDER_ENCODINGS.flatMap((key) => [
    ...SMALL_ORDER_ENCODINGS.map((r) => ({
      label: `small-order key ${key}, small-order R ${r}, S = 0`,
      key,
      message: toHex(message),
      sig: r + '00'.repeat(32),
      valid: false,
    })),
    // [1]B = B + [k]A holds cofactored always, cofactorless when [k]A is the identity
    ...['one', 'two', 'three', 'four'].map((text) => ({
      label: `small-order key ${key}, R = B, S = 1 (${text})`,
      key,
      message: toHex(utf8(text)),
      sig: toHex(signature(base, 1n)),
      valid: false,
    })),
  ])
}

/** An honest key with R of small order (every encoding) and `S = k a`: `[S]B = [k]A`. */
function smallOrderRCases(): Ed25519Case[] {
  const { a, key } = signer(3)
  const message = utf8('small R')
  return SMALL_ORDER_ENCODINGS.map((hex) => {
    const r = fromHex(hex)
    return {
      label: `honest key, small-order R ${hex}, S = k a`,
      key: toHex(key),
      message: toHex(message),
      sig: toHex(signature(r, (challenge(r, key, message) * a) % L)),
      valid: false,
    }
  })
}

/** R = [r]B + T with T of small order, S = r + k a: the cofactored equation holds. */
function mixedOrderRCases(): Ed25519Case[] {
  const { a, key } = signer(4)
  const r = 0x1234567890abcdefn
  const message = utf8('mixed R')
  return SMALL_ORDER_POINTS.slice(1).map((torsion, i) => {
    const rBytes = Point.BASE.multiply(r).add(torsion).toBytes()
    return {
      label: `honest key, mixed-order R ([r]B + [${i + 1}]T8)`,
      key: toHex(key),
      message: toHex(message),
      sig: toHex(signature(rBytes, (r + challenge(rBytes, key, message) * a) % L)),
      valid: false,
    }
  })
}

/**
 * A key A + T with T of small order, signed as if it were A: the cofactored equation
 * holds; the cofactorless one only when [k]T is the identity, so for each T the messages
 * include one where it does and one where it does not.
 */
function mixedOrderKeyCases(): Ed25519Case[] {
  const { a, point } = signer(5)
  const r = 0xfedcba0987654321n
  const rBytes = Point.BASE.multiply(r).toBytes()
  const cases: Ed25519Case[] = []
  SMALL_ORDER_POINTS.slice(1).forEach((torsion, i) => {
    const key = point.add(torsion).toBytes()
    const found = new Set<boolean>()
    for (let n = 0; found.size < 2; n++) {
      const message = utf8(`mixed key ${n}`)
      const k = challenge(rBytes, key, message)
      const vanishes = torsion.multiply(k, false).is0()
      if (found.has(vanishes)) continue
      found.add(vanishes)
      cases.push({
        label: `mixed-order key (A + [${i + 1}]T8), [k]T ${vanishes ? 'is' : 'is not'} the identity`,
        key: toHex(key),
        message: toHex(message),
        sig: toHex(signature(rBytes, (r + k * a) % L)),
        valid: false,
      })
    }
  })
  return cases
}

/** An honest signature with S replaced by edge values, and S + L (malleability). */
function edgeScalarCases(): Ed25519Case[] {
  const { seed, key } = signer(6)
  const message = utf8('edge S')
  const sig = noble.sign(message, seed)
  const r = sig.subarray(0, 32)
  const s = le(sig.subarray(32))
  const edges: [string, bigint][] = [
    ['0', 0n],
    ['1', 1n],
    ['L - 1', L - 1n],
    ['L', L],
    ['L + 1', L + 1n],
    ['2^253', 1n << 253n],
    ['2^256 - 1', (1n << 256n) - 1n],
    ['S + L', s + L],
    ['S + 2L', s + 2n * L],
  ]
  return edges.map(([name, value]) => ({
    label: `honest R, S = ${name}`,
    key: toHex(key),
    message: toHex(message),
    sig: toHex(signature(r, value)),
    valid: false,
  }))
}

/** A non-canonical encoding (y + p) of a key and of R whose y is below 19. */
function nonCanonicalCases(): Ed25519Case[] {
  const cases: Ed25519Case[] = []
  for (let y = 2n; y < 19n; y++) {
    let point: noble.Point
    try {
      point = Point.fromBytes(le32(y))
    } catch {
      continue // no x for this y
    }
    const alias = le32(y + P)
    const message = utf8(`non-canonical ${y}`)
    const { seed, key } = signer(7)
    const honest = noble.sign(message, seed)
    cases.push(
      {
        label: `non-canonical key y = ${y} + p (order ${point.isTorsionFree() ? 'L' : 'not L'})`,
        key: toHex(alias),
        message: toHex(message),
        sig: toHex(honest),
        valid: false,
      },
      {
        label: `non-canonical R y = ${y} + p`,
        key: toHex(key),
        message: toHex(message),
        sig: toHex(alias) + toHex(honest.subarray(32)),
        valid: false,
      },
    )
  }
  return cases
}

interface TamingVectors {
  cases: { index: number; about: string; publicKey: string; message: string; signature: string }[]
}

function tamingCases(): Ed25519Case[] {
  const file = new URL('./vectors/taming-eddsas.json', import.meta.url)
  const vectors: TamingVectors = JSON.parse(readFileSync(file, 'utf8'))
  return vectors.cases.map((c) => ({
    label: `Taming the many EdDSAs #${c.index}: ${c.about}`,
    key: c.publicKey,
    message: c.message,
    sig: c.signature,
    valid: false,
  }))
}

/** One vector of C2SP CCTV's ed25519vectors.json: `msg` is text, `flags` its edge cases. */
interface CctvVector {
  number: number
  key: string
  sig: string
  msg: string
  flags: string[] | null
}

/**
 * The 914 vectors of C2SP CCTV `ed25519/ed25519vectors.json` (Filippo Valsorda et al.,
 * https://github.com/C2SP/CCTV, copied byte for byte into test/vectors), every
 * combination of small-order, mixed-order and non-canonical `A` and `R`. The rule accepts
 * only the one without any flag.
 */
export function cctvVectors(): (Ed25519Case & { flags: string[] })[] {
  const file = new URL('./vectors/cctv-ed25519vectors.json', import.meta.url)
  const vectors: CctvVector[] = JSON.parse(readFileSync(file, 'utf8'))
  return vectors.map((v) => ({
    label: `CCTV #${v.number} [${(v.flags ?? []).join(' ')}]`,
    key: v.key,
    message: toHex(utf8(v.msg)),
    sig: v.sig,
    valid: !v.flags?.length,
    flags: v.flags ?? [],
  }))
}

/**
 * A signature by the signer of `seed` over `message`, made as RFC 8032 does (`R = [r]B`,
 * `S = r + k a`) except that the key is published as `A + [keyTorsion]T8` and `R` as
 * `[r]B + [rTorsion]T8` (`k` hashed over the published bytes). Valid under the rule only
 * when both torsion indexes are 0 (an honest signature).
 */
export function torsionCase(
  seed: Uint8Array,
  message: Uint8Array,
  keyTorsion: number,
  rTorsion: number,
): Ed25519Case {
  const { scalar: a, point } = noble.utils.getExtendedPublicKey(seed)
  const r = le(sha512(concat(seed, message))) % L || 1n
  const key = point.add(SMALL_ORDER_POINTS[keyTorsion]!).toBytes()
  const rBytes = Point.BASE.multiply(r).add(SMALL_ORDER_POINTS[rTorsion]!).toBytes()
  return {
    label: `key torsion ${keyTorsion}, R torsion ${rTorsion}`,
    key: toHex(key),
    message: toHex(message),
    sig: toHex(signature(rBytes, (r + challenge(rBytes, key, message) * a) % L)),
    valid: keyTorsion === 0 && rTorsion === 0,
  }
}

/** Every triple, in a fixed order. */
export function ed25519Cases(): Ed25519Case[] {
  return [
    ...honestCases(),
    ...forgeryCases(),
    ...smallOrderKeyCases(),
    ...smallOrderRCases(),
    ...mixedOrderRCases(),
    ...mixedOrderKeyCases(),
    ...edgeScalarCases(),
    ...nonCanonicalCases(),
    ...tamingCases(),
    ...cctvVectors().map(({ flags: _, ...c }) => c),
  ]
}
