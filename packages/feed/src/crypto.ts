/**
 * Ed25519 (RFC 8032, pure) behind one small interface with four implementations that
 * produce identical bytes:
 *
 * - `node`: `node:crypto` with a per-key `KeyObject` cache (Node, Deno, Bun), found
 *   through `process.getBuiltinModule`, so bundlers never see a Node import;
 * - `sodium`: libsodium through the optional dependency `sodium-native`, in Node
 *   (sodium-ed25519.ts; about half of node:crypto's cost);
 * - `noble`: `@noble/ed25519` with `@noble/hashes` SHA-512, portable and synchronous;
 * - `webcrypto`: `crypto.subtle` Ed25519 where the platform has it; asynchronous only,
 *   used by `verifyBatch` (verify-batch.ts) and `Feed.fromAsync`.
 *
 * The synchronous backend ({@link activeEd25519}) is `sodium` in Node once a process has
 * used it a few hundred times, `node` before and where libsodium is missing, else `noble`.
 *
 * Every backend verifies under one rule (see `ed25519-rule.ts` and docs/block-format.md):
 * canonical `S < L`, canonical `A` of order exactly `L`, canonical `R` not of small order,
 * and the cofactorless equation. The checks of a public key run once and are cached with
 * the backend's key object; those of `R` and `S` are byte comparisons.
 */

import type * as NodeCrypto from 'node:crypto'
import * as noble from '@noble/ed25519'
import { sha512 } from '@noble/hashes/sha2.js'
import { fromHex } from './bytes.ts'
import {
  cofactorlessEquation,
  EQUATION_PROBE,
  publicKeyInRule,
  signatureInRule,
} from './ed25519-rule.ts'
import { KeyCache, PUBLIC_KEY_CACHE_ENTRIES, SECRET_KEY_CACHE_ENTRIES } from './key-cache.ts'
import { sodiumEd25519 } from './sodium-ed25519.ts'

noble.hashes.sha512 = sha512

/** A synchronous Ed25519 implementation. Keys: 32-byte seed / 32-byte public key. */
export interface Ed25519 {
  /** `node`, `noble`, ... */
  readonly name: string
  /** 64-byte signature of `message` by the 32-byte `seed`. */
  sign(message: Uint8Array, seed: Uint8Array): Uint8Array
  /** True when `sig` (64 B) is `publicKey`'s (32 B) signature of `message`. */
  verify(sig: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean
  /** 32-byte public key of a 32-byte seed. */
  publicKey(seed: Uint8Array): Uint8Array
}

/** An asynchronous Ed25519 implementation (WebCrypto). Same shapes as {@link Ed25519}. */
export interface Ed25519Async {
  /** `webcrypto`, ... */
  readonly name: string
  /** Resolves with the 64-byte signature of `message` by the 32-byte `seed`. */
  sign(message: Uint8Array, seed: Uint8Array): Promise<Uint8Array>
  /** Resolves true when `sig` (64 B) is `publicKey`'s (32 B) signature of `message`. */
  verify(sig: Uint8Array, message: Uint8Array, publicKey: Uint8Array): Promise<boolean>
}

// DER prefixes that wrap a raw Ed25519 seed (PKCS#8) or public key (SPKI), RFC 8410.
const PKCS8_PREFIX = fromHex('302e020100300506032b657004220420')
const SPKI_PREFIX = fromHex('302a300506032b6570032100')

function withPrefix(prefix: Uint8Array, key: Uint8Array): Uint8Array {
  const der = new Uint8Array(prefix.length + key.length)
  der.set(prefix)
  der.set(key, prefix.length)
  return der
}

function makeNobleEd25519(): Ed25519 {
  const points = new KeyCache<noble.Point | null>(PUBLIC_KEY_CACHE_ENTRIES)
  return {
    name: 'noble',
    sign: (message, seed) => noble.sign(message, seed),
    verify: (sig, message, publicKey) => {
      if (!signatureInRule(sig)) return false
      const point = points.get(publicKey, () => publicKeyInRule(publicKey))
      return point !== null && cofactorlessEquation(sig, message, publicKey, point)
    },
    publicKey: (seed) => noble.getPublicKey(seed),
  }
}

/** The portable implementation: `@noble/ed25519` point arithmetic under the one rule. */
export const nobleEd25519: Ed25519 = makeNobleEd25519()

type Process = { getBuiltinModule?: (id: string) => unknown }
const nodeCrypto = (globalThis as { process?: Process }).process?.getBuiltinModule?.(
  'node:crypto',
) as typeof NodeCrypto | undefined

/** node:crypto's own verdict (no rule) on `sig`; false when it throws. */
function nodeVerifyAlone(
  c: typeof NodeCrypto,
  sig: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  try {
    const key = c.createPublicKey({
      key: withPrefix(SPKI_PREFIX, publicKey) as Buffer,
      format: 'der',
      type: 'spki',
    })
    return c.verify(null, message, key, sig)
  } catch {
    return false
  }
}

/**
 * The node:crypto backend, or `undefined` when this runtime's node:crypto does not compute
 * the rule's cofactorless equation (`EQUATION_PROBE`; OpenSSL in Node does).
 */
function makeNodeEd25519(c: typeof NodeCrypto): Ed25519 | undefined {
  const { key, message, honest, cofactoredOnly } = EQUATION_PROBE
  if (
    !nodeVerifyAlone(c, honest, message, key) ||
    nodeVerifyAlone(c, cofactoredOnly, message, key)
  ) {
    return undefined
  }
  const secrets = new KeyCache<NodeCrypto.KeyObject>(SECRET_KEY_CACHE_ENTRIES)
  const publics = new KeyCache<NodeCrypto.KeyObject | null>(PUBLIC_KEY_CACHE_ENTRIES)
  const secretKey = (seed: Uint8Array) =>
    secrets.get(seed, () =>
      c.createPrivateKey({
        key: withPrefix(PKCS8_PREFIX, seed) as Buffer,
        format: 'der',
        type: 'pkcs8',
      }),
    )
  const toU8 = (b: Uint8Array) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
  return {
    name: 'node',
    sign: (message, seed) => toU8(c.sign(null, message, secretKey(seed))),
    verify: (sig, message, publicKey) => {
      if (!signatureInRule(sig)) return false
      const key = publics.get(publicKey, () =>
        publicKeyInRule(publicKey)
          ? c.createPublicKey({
              key: withPrefix(SPKI_PREFIX, publicKey) as Buffer,
              format: 'der',
              type: 'spki',
            })
          : null,
      )
      return key !== null && c.verify(null, message, key, sig)
    },
    publicKey: (seed) => {
      const der = c.createPublicKey(secretKey(seed)).export({ format: 'der', type: 'spki' })
      return toU8(der).slice(SPKI_PREFIX.length)
    },
  }
}

/**
 * The `node:crypto` implementation, or `undefined` outside Node-compatible runtimes (and
 * where node:crypto's Ed25519 does not compute the rule's equation).
 */
export const nodeEd25519: Ed25519 | undefined = nodeCrypto ? makeNodeEd25519(nodeCrypto) : undefined

/**
 * Calls of {@link activeEd25519} for the default backend before libsodium is loaded for it:
 * a process that signs or checks a few blocks (a CLI command) never pays its ~20 ms load.
 */
export const SODIUM_AFTER_USES = 256

/** The backend {@link useEd25519} chose, if it was called. */
let chosen: Ed25519 | undefined
let fallback: Ed25519 = nodeEd25519 ?? nobleEd25519
let defaultUses = 0

/**
 * The synchronous implementation feeds use now. By default `node` where present, else
 * `noble`; in Node with the optional dependency `sodium-native`, `sodium`
 * (sodium-ed25519.ts: about half the cost per signature made or checked) from the
 * {@link SODIUM_AFTER_USES}th call on. A backend chosen with {@link useEd25519} holds.
 */
export function activeEd25519(): Ed25519 {
  if (chosen) return chosen
  if (defaultUses < SODIUM_AFTER_USES && ++defaultUses === SODIUM_AFTER_USES) {
    fallback = sodiumEd25519() ?? fallback
  }
  return fallback
}

/**
 * Chooses the synchronous implementation (benchmarks and tests switch between them; apps
 * never need to). Returns the previous one so callers can restore it.
 */
export function useEd25519(impl: Ed25519): Ed25519 {
  const previous = chosen ?? fallback
  chosen = impl
  return previous
}

let webCryptoProbe: Promise<Ed25519Async | undefined> | undefined

/**
 * The WebCrypto implementation, or `undefined` when `crypto.subtle` lacks Ed25519 or does
 * not compute the rule's cofactorless equation (docs/block-format.md). Probed once (two
 * verifications) and memoised.
 */
export function webCryptoEd25519(): Promise<Ed25519Async | undefined> {
  webCryptoProbe ??= probeWebCrypto()
  return webCryptoProbe
}

/** WebCrypto's typings want ArrayBuffer-backed views; ours always are. */
const source = (bytes: Uint8Array) => bytes as Uint8Array<ArrayBuffer>

async function probeWebCrypto(): Promise<Ed25519Async | undefined> {
  const subtle = globalThis.crypto?.subtle
  if (!subtle) return undefined
  const algorithm = { name: 'Ed25519' }
  // usable when it has Ed25519 and computes the rule's equation
  try {
    const { key, message, honest, cofactoredOnly } = EQUATION_PROBE
    const probeKey = await subtle.importKey('raw', source(key), algorithm, false, ['verify'])
    const accepts = (sig: Uint8Array) =>
      subtle.verify(algorithm, probeKey, source(sig), source(message))
    if (!(await accepts(honest)) || (await accepts(cofactoredOnly))) return undefined
  } catch {
    return undefined
  }
  const publics = new KeyCache<Promise<CryptoKey> | null>(PUBLIC_KEY_CACHE_ENTRIES)
  const secrets = new KeyCache<Promise<CryptoKey>>(SECRET_KEY_CACHE_ENTRIES)
  return {
    name: 'webcrypto',
    async sign(message, seed) {
      const key = await secrets.get(seed, () =>
        subtle.importKey('pkcs8', source(withPrefix(PKCS8_PREFIX, seed)), algorithm, false, [
          'sign',
        ]),
      )
      return new Uint8Array(await subtle.sign(algorithm, key, source(message)))
    },
    async verify(sig, message, publicKey) {
      if (!signatureInRule(sig)) return false
      const key = publics.get(publicKey, () =>
        publicKeyInRule(publicKey)
          ? subtle.importKey('raw', source(publicKey), algorithm, false, ['verify'])
          : null,
      )
      if (key === null) return false
      try {
        return await subtle.verify(algorithm, await key, source(sig), source(message))
      } catch {
        return false // the platform refused the key or the signature
      }
    },
  }
}

/** One signature to check: `sig` (64 B) over `message` by `publicKey` (32 B). */
export interface VerifyItem {
  /** The signature, 64 B. */
  sig: Uint8Array
  /** The signed bytes. */
  message: Uint8Array
  /** The signer's public key, 32 B. */
  publicKey: Uint8Array
}
