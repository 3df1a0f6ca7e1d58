/**
 * The one Ed25519 verification rule every backend applies (node:crypto, noble, WebCrypto),
 * so that they all accept exactly the same signatures.
 *
 * RFC 8032 §5.1.7 leaves implementations free on points of small order, on points with a
 * small-order (torsion) component and on the verification equation (cofactored or not);
 * "Taming the many EdDSAs" (Chalkias, Garillot, Nikolaenko, SSR 2020) shows that libraries
 * disagree on exactly those signatures. Here every choice is taken strictly:
 *
 * 1. `S` is canonical: `S < L` (RFC 8032 §5.1.7 step 1).
 * 2. `A` (the public key) is a canonical encoding (`y < p`, no "negative zero", RFC 8032
 *    §5.1.3) of a point of order exactly `L`: on the curve, in the prime-order subgroup
 *    (`[L]A` is the identity) and not the identity. Checked once per key, then cached.
 * 3. `R` is a canonical encoding and not one of the 8 points of small order.
 * 4. The cofactorless equation `[S]B = R + [k]A`, compared as encodings
 *    (`encode([S]B - [k]A) == R`), as OpenSSL (node:crypto, WebCrypto in Node) and
 *    BoringSSL (WebCrypto in Chromium) do; the noble backend computes the same equation.
 *
 * With `A` in the prime-order subgroup, `[S]B - [k]A` is in it too, so (4) also refuses
 * every `R` outside it (small order or mixed order); and for `A`, `R` both in that
 * subgroup the cofactored and cofactorless equations give the same answer. Signatures
 * made by RFC 8032 signing always pass: its keys and `R` are multiples of `B`.
 *
 * A platform library is used only after it passed {@link EQUATION_PROBE}: it computes the
 * cofactorless equation (else the noble backend serves instead).
 */
import { Point } from '@noble/ed25519'
import { sha512 } from '@noble/hashes/sha2.js'
import { fromHex } from './bytes.ts'

/** Order of the prime-order subgroup of edwards25519, `2^252 + 27742317777372353535851937790883648493`. */
export const ED25519_ORDER = Point.CURVE().n

/** `L` as 32 little-endian bytes, compared against `S` from the top byte down. */
const ORDER_LE = numberToBytesLE(ED25519_ORDER)

/**
 * The `y` coordinates (32 B little-endian, sign bit clear) of the 8 points of small order:
 * the identity (`y = 1`), the point of order 2 (`y = p - 1`), the two of order 4 (`y = 0`)
 * and the four of order 8 (two `y` values, each with both signs of `x`). Facts of the
 * curve, listed e.g. in the "Taming the many EdDSAs" paper; the tests re-derive them.
 */
const SMALL_ORDER_Y = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
].map(fromHex)

function numberToBytesLE(n: bigint): Uint8Array {
  const out = new Uint8Array(32)
  for (let i = 0; i < 32; i++, n >>= 8n) out[i] = Number(n & 0xffn)
  return out
}

function bytesToNumberLE(bytes: Uint8Array): bigint {
  let n = 0n
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!)
  return n
}

/** True when the 32 little-endian bytes at `sig[32..64]` are below `L`. */
function canonicalScalar(sig: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) {
    const s = sig[32 + i]!
    const l = ORDER_LE[i]!
    if (s !== l) return s < l
  }
  return false // S == L
}

/** True when the 32-byte point encoding `p` has `y < p = 2^255 - 19` (sign bit aside). */
function canonicalY(point: Uint8Array): boolean {
  if ((point[31]! & 0x7f) !== 0x7f) return true
  for (let i = 30; i > 0; i--) if (point[i] !== 0xff) return true
  return point[0]! < 0xed
}

/** True when the 32-byte encoding's `y` (sign bit aside) is one of a small-order point. */
function smallOrderY(point: Uint8Array): boolean {
  next: for (const y of SMALL_ORDER_Y) {
    if (point[0] !== y[0] || (point[31]! & 0x7f) !== y[31]) continue
    for (let i = 1; i < 31; i++) if (point[i] !== y[i]) continue next
    return true
  }
  return false
}

/**
 * Checks of the rule that need only the signature's bytes (64 B): `S < L`, and `R`
 * canonical and not of small order (steps 1 and 3). Cheap: byte comparisons.
 */
export function signatureInRule(sig: Uint8Array): boolean {
  if (sig.length !== 64) return false
  const r = sig.subarray(0, 32)
  return canonicalScalar(sig) && canonicalY(r) && !smallOrderY(r)
}

/**
 * Decodes a public key (32 B) under step 2 of the rule: a canonical encoding of a point of
 * order exactly `L`. Returns the point, or `null` when the key is refused. Costs one scalar
 * multiplication (~1 ms in JavaScript): callers cache the answer per key.
 */
export function publicKeyInRule(publicKey: Uint8Array): Point | null {
  if (publicKey.length !== 32 || !canonicalY(publicKey) || smallOrderY(publicKey)) return null
  try {
    const point = Point.fromBytes(publicKey, false) // strict RFC 8032 decoding
    return point.isTorsionFree() ? point : null
  } catch {
    return null // y has no x on the curve
  }
}

/**
 * Step 4, the cofactorless equation, computed with noble's point arithmetic: true when
 * `encode([S]B - [k]A)` equals `R`, with `k = SHA-512(R || A || message) mod L`.
 * `publicKey` is the key's 32 bytes and `point` its decoding ({@link publicKeyInRule});
 * `sig` must have passed {@link signatureInRule}.
 */
export function cofactorlessEquation(
  sig: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array,
  point: Point,
): boolean {
  const r = sig.subarray(0, 32)
  const hashed = sha512.create().update(r).update(publicKey).update(message).digest()
  const k = bytesToNumberLE(hashed) % ED25519_ORDER
  const s = bytesToNumberLE(sig.subarray(32, 64))
  const computed = Point.BASE.multiply(s, false).subtract(point.multiply(k, false)).toBytes()
  for (let i = 0; i < 32; i++) if (computed[i] !== r[i]) return false
  return true
}

/**
 * Two signatures of the message `cofactorless?` (`message`) under one honest key (`key`,
 * 32 B): an RFC 8032 one (`honest`, 64 B), and one whose `R` is `[r]B + T` with `T` of
 * order 8 and `S = r + k a` (`cofactoredOnly`, 64 B), which only the cofactored equation
 * accepts. A platform verifier computes step 4 when it accepts the first and refuses the
 * second, before the rule's own checks (the test `ed25519-rule.test.ts` re-derives both).
 */
export const EQUATION_PROBE = {
  key: fromHex('3ef08959033028c8fc6fc6d491a12548e78df6aefb2d7c2c190c3f78cef3f50b'),
  message: fromHex('636f666163746f726c6573733f'),
  honest: fromHex(
    'a7a6ece00090c9badde7b81a992b44e26203f870305975e9c18cd376ce154b3dd7221c4ae170059f9efec3a1ced60bd27e35509db2445b50d4212d968409730f',
  ),
  cofactoredOnly: fromHex(
    'a5b8cfb30f6a4497a3a1bb1d1c216323f6b67d271848ef4bdf796ffb93658517fc58cd26fb340793aed7bb5f20bbd701ca03615a9b3b809abd6cc822f583bb08',
  ),
}
