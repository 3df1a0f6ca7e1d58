/**
 * Issue 12, finding 1: one Ed25519 rule on every backend. The same (key, message,
 * signature) triples go to noble, node:crypto and WebCrypto (in Node), which must all give
 * the rule's verdict; the libraries alone disagree on them; and a feed whose block carries
 * the identity forgery is refused by every backend with FEED_SIGNATURE.
 * (The same triples in Chromium: ed25519-chromium.test.ts.)
 */
import { createPublicKey, verify as nodeVerify } from 'node:crypto'
import * as noble from '@noble/ed25519'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { EQUATION_PROBE } from '../src/ed25519-rule.ts'
import {
  Feed,
  fromHex,
  MAGIC,
  nobleEd25519,
  nodeEd25519,
  sodiumEd25519,
  toHex,
  useEd25519,
  verifyBatch,
  webCryptoEd25519,
} from '../src/index.ts'
import {
  requireNode,
  requireSodium,
  requireWeb,
  requireWorkers,
  restoreEd25519AfterEach,
} from './backends.ts'
import {
  cctvVectors,
  type Ed25519Case,
  ed25519Cases,
  IDENTITY_FORGERY,
  SMALL_ORDER_ENCODINGS,
  SMALL_ORDER_POINTS,
  torsionCase,
} from './ed25519-cases.ts'
import { concat, varint } from './raw.ts'

restoreEd25519AfterEach()

const cases = ed25519Cases()

/** The labels of the cases where `verdict` differs from the rule's. */
async function disagreements(
  verdict: (c: Ed25519Case) => boolean | Promise<boolean>,
): Promise<string[]> {
  const wrong: string[] = []
  for (const c of cases) if ((await verdict(c)) !== c.valid) wrong.push(c.label)
  return wrong
}

const args = (c: Ed25519Case) => [fromHex(c.sig), fromHex(c.message), fromHex(c.key)] as const

/** node:crypto on its own (OpenSSL): cofactorless, no small-order checks. */
function opensslAlone(c: Ed25519Case): boolean {
  try {
    const spki = concat(fromHex('302a300506032b6570032100'), fromHex(c.key))
    const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' })
    return nodeVerify(null, fromHex(c.message), key, fromHex(c.sig))
  } catch {
    return false
  }
}

/** @noble/ed25519 on its own, strict mode: cofactored, refuses small-order keys only. */
function nobleAlone(c: Ed25519Case): boolean {
  try {
    return noble.verify(fromHex(c.sig), fromHex(c.message), fromHex(c.key), { zip215: false })
  } catch {
    return false
  }
}

describe('the triples', () => {
  it('hold the 8 points of small order in their 14 encodings (8 canonical, 6 not)', () => {
    expect(new Set(SMALL_ORDER_POINTS.map((p) => p.toHex())).size).toBe(8)
    for (const point of SMALL_ORDER_POINTS) expect(point.clearCofactor().is0()).toBe(true)
    expect(new Set(SMALL_ORDER_ENCODINGS).size).toBe(14)
    // every encoding decodes (leniently, as ZIP-215 does) to a point of small order
    for (const hex of SMALL_ORDER_ENCODINGS) {
      expect(noble.Point.fromHex(hex, true).isSmallOrder()).toBe(true)
    }
  })

  it('are ones the libraries alone disagree on', () => {
    const differ = cases.filter((c) => opensslAlone(c) !== nobleAlone(c)).map((c) => c.label)
    expect(differ.length).toBeGreaterThan(20)
    const forgery = cases.find((c) => c.key === IDENTITY_FORGERY.key)!
    expect(opensslAlone(forgery)).toBe(true) // the forgery of issue 12
    expect(nobleAlone(forgery)).toBe(false)
    // mixed-order R: the cofactored equation (noble) holds, the cofactorless (OpenSSL) not
    const mixedR = cases.filter((c) => c.label.startsWith('honest key, mixed-order R'))
    expect(mixedR.length).toBe(7)
    expect(mixedR.map(nobleAlone)).toEqual(mixedR.map(() => true))
    expect(mixedR.map(opensslAlone)).toEqual(mixedR.map(() => false))
    // and each library alone accepts some triple the rule refuses
    expect(cases.some((c) => !c.valid && opensslAlone(c))).toBe(true)
    expect(cases.some((c) => !c.valid && nobleAlone(c))).toBe(true)
  })

  it('include the CCTV vectors, on which OpenSSL alone behaves as CCTV documents for it', () => {
    // "reject non_canonical_R and low_order_residue and accept everything else"
    const vectors = cctvVectors()
    expect(vectors.length).toBe(914)
    const documented = (flags: string[]) =>
      !flags.includes('non_canonical_R') && !flags.includes('low_order_residue')
    const off = vectors.filter((v) => opensslAlone(v) !== documented(v.flags))
    expect(off.map((v) => v.label)).toEqual([])
  })
})

describe('the equation probe a platform verifier must pass', () => {
  const { key, message, honest, cofactoredOnly } = EQUATION_PROBE
  const probe = (c: 'honest' | 'cofactoredOnly'): Ed25519Case => ({
    label: c,
    key: toHex(key),
    message: toHex(message),
    sig: toHex(EQUATION_PROBE[c]),
    valid: c === 'honest',
  })

  it('is an RFC 8032 signature and one that only the cofactored equation accepts', () => {
    const seed = new Uint8Array(32).fill(0x50)
    expect(toHex(noble.getPublicKey(seed))).toBe(toHex(key))
    expect(toHex(noble.sign(message, seed))).toBe(toHex(honest))
    expect(nobleAlone(probe('cofactoredOnly'))).toBe(true) // cofactored: a platform like it is refused
    expect(opensslAlone(probe('honest'))).toBe(true)
    expect(opensslAlone(probe('cofactoredOnly'))).toBe(false)
    expect(noble.Point.fromBytes(cofactoredOnly.subarray(0, 32)).isTorsionFree()).toBe(false)
  })

  it('node:crypto, libsodium and WebCrypto pass it here, so all serve', async () => {
    expect(nodeEd25519?.name).toBe('node')
    expect(sodiumEd25519()?.name).toBe('sodium')
    expect((await webCryptoEd25519())?.name).toBe('webcrypto')
  })
})

describe('every backend gives the rule verdict on every triple', () => {
  it(`noble (${cases.length} triples)`, async () => {
    expect(await disagreements((c) => nobleEd25519.verify(...args(c)))).toEqual([])
  })

  it('node:crypto', async () => {
    const node = requireNode()
    expect(await disagreements((c) => node.verify(...args(c)))).toEqual([])
  })

  it('libsodium on this thread', async () => {
    const sodium = requireSodium()
    expect(await disagreements((c) => sodium.verify(...args(c)))).toEqual([])
  })

  it('WebCrypto', async () => {
    const web = await requireWeb()
    expect(await disagreements((c) => web.verify(...args(c)))).toEqual([])
  })

  it('verifyBatch, and again with every key already cached', async () => {
    const items = cases.map((c) => {
      const [sig, message, publicKey] = args(c)
      return { sig, message, publicKey }
    })
    const expected = cases.map((c) => c.valid)
    expect(await verifyBatch(items)).toEqual(expected)
    expect(await verifyBatch(items)).toEqual(expected)
    const node = requireNode()
    expect(items.map((i) => node.verify(i.sig, i.message, i.publicKey))).toEqual(expected)
    expect(items.map((i) => nobleEd25519.verify(i.sig, i.message, i.publicKey))).toEqual(expected)
  })
})

describe('keys and R with any torsion component, random seeds and messages', () => {
  it('every backend says valid exactly when neither carries torsion', async () => {
    const node = requireNode()
    const sodium = requireSodium()
    const web = await requireWeb()
    const workers = await requireWorkers()
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ maxLength: 200 }),
        fc.nat(7),
        fc.nat(7),
        async (seed, message, keyTorsion, rTorsion) => {
          const c = torsionCase(seed, message, keyTorsion, rTorsion)
          const verdicts = [
            nobleEd25519.verify(...args(c)),
            node.verify(...args(c)),
            sodium.verify(...args(c)),
            await web.verify(...args(c)),
            ...(await workers.verify([
              { sig: args(c)[0], message: args(c)[1], publicKey: args(c)[2] },
            ])),
          ]
          expect(verdicts).toEqual(new Array(5).fill(c.valid))
        },
      ),
      { numRuns: 60 },
    )
  })
})

/** A genesis block by the identity key carrying the forged signature, as feed bytes. */
function forgedFeed(body: string): Uint8Array {
  const data = concat([0, 1], fromHex(IDENTITY_FORGERY.key), new TextEncoder().encode(body))
  return concat(MAGIC, fromHex(IDENTITY_FORGERY.sig), varint(data.length), data)
}

describe('a feed whose block carries the identity forgery', () => {
  const bytes = forgedFeed('forged block')
  const refused = expect.objectContaining({ name: 'FeedError', code: 'FEED_SIGNATURE' })

  it('decodes without verification (the bytes are a well-formed block)', () => {
    const feed = Feed.from(bytes, { verify: false })
    expect(feed.length).toBe(1)
    expect(toHex(feed.block(0)!.key!)).toBe(IDENTITY_FORGERY.key)
    expect(feed.block(0)!.verify()).toBe(false)
  })

  for (const [name, impl] of [
    ['node', requireNode()],
    ['sodium', requireSodium()],
    ['noble', nobleEd25519],
  ] as const) {
    it(`is refused by Feed.from with FEED_SIGNATURE (${name})`, () => {
      useEd25519(impl)
      expect(() => Feed.from(bytes)).toThrow(refused)
      expect(() => Feed.from(forgedFeed('another body, the same block id'))).toThrow(refused)
    })
  }

  it('is refused by Feed.fromAsync with FEED_SIGNATURE (WebCrypto)', async () => {
    await requireWeb()
    useEd25519(nobleEd25519) // verifyBatch then takes the WebCrypto path
    await expect(Feed.fromAsync(bytes)).rejects.toMatchObject({ code: 'FEED_SIGNATURE' })
  })
})
