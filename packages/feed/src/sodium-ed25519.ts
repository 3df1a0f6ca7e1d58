/**
 * Ed25519 with libsodium on the calling thread, through the optional dependency
 * `sodium-native` (which hyperswarm installs too): in Node, about half the cost of
 * node:crypto's OpenSSL per signature made (18-21 us against 37-42 us on the 2-core bench
 * machine) and per signature checked (50-78 us against 108-124 us).
 *
 * Signatures are RFC 8032's, so byte-identical to every other backend's. A check runs
 * checks 1-4 of the rule first (docs/block-format.md, "Signatures"), as on every backend;
 * `crypto_sign_verify_detached` then computes check 5, the cofactorless equation compared
 * as encodings, and the refusals it adds (non-canonical `S`, `R` or `A` of small order,
 * non-canonical `A`) are among checks 1-3. libsodium serves only once it passes
 * `EQUATION_PROBE`.
 *
 * Found through `process.getBuiltinModule` (no Node import a browser bundler could see):
 * absent outside Node and where `sodium-native` is not installed or does not load.
 */
import type { Ed25519 } from './crypto.ts'
import { EQUATION_PROBE, publicKeyInRule, signatureInRule } from './ed25519-rule.ts'
import { KeyCache, PUBLIC_KEY_CACHE_ENTRIES, SECRET_KEY_CACHE_ENTRIES } from './key-cache.ts'

/** The functions of `sodium-native` used here (its argument order: output first). */
interface Sodium {
  crypto_sign_seed_keypair(publicKey: Uint8Array, secretKey: Uint8Array, seed: Uint8Array): void
  crypto_sign_detached(sig: Uint8Array, message: Uint8Array, secretKey: Uint8Array): void
  crypto_sign_verify_detached(sig: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean
}

type Process = { getBuiltinModule?: (id: string) => unknown }
type ModuleBuiltin = {
  createRequire(from: string): { (id: string): unknown; resolve(id: string): string }
}

/** This package's `require`, or `undefined` outside Node. */
function nodeRequire(): ReturnType<ModuleBuiltin['createRequire']> | undefined {
  const builtin = (globalThis as { process?: Process }).process?.getBuiltinModule
  const module = builtin?.('node:module') as ModuleBuiltin | undefined
  return module?.createRequire(import.meta.url)
}

/**
 * The resolved path of `sodium-native` (what a worker thread loads), or `undefined`
 * outside Node or where it is not installed.
 */
export function sodiumPath(): string | undefined {
  try {
    return nodeRequire()?.resolve('sodium-native')
  } catch {
    return undefined
  }
}

let loaded: Ed25519 | null | undefined

/**
 * The libsodium backend, loaded on this thread on the first call (about 20 ms: a native
 * addon), or `undefined` outside Node, where `sodium-native` is not installed or does not
 * load, or where its libsodium does not compute the rule's equation (`EQUATION_PROBE`).
 */
export function sodiumEd25519(): Ed25519 | undefined {
  if (loaded === undefined) loaded = load() ?? null
  return loaded ?? undefined
}

function load(): Ed25519 | undefined {
  let sodium: Sodium
  try {
    const require = nodeRequire()
    if (!require) return undefined
    sodium = require('sodium-native') as Sodium
  } catch {
    return undefined
  }
  const { key, message, honest, cofactoredOnly } = EQUATION_PROBE
  const check = (sig: Uint8Array, msg: Uint8Array, publicKey: Uint8Array) =>
    sodium.crypto_sign_verify_detached(sig, msg, publicKey)
  if (!check(honest, message, key) || check(cofactoredOnly, message, key)) return undefined
  return makeSodiumEd25519(sodium)
}

function makeSodiumEd25519(sodium: Sodium): Ed25519 {
  // libsodium's secret key is the seed and its public key (64 B): made once per seed.
  const pairs = new KeyCache<{ publicKey: Uint8Array; secretKey: Uint8Array }>(
    SECRET_KEY_CACHE_ENTRIES,
  )
  const pairOf = (seed: Uint8Array) =>
    pairs.get(seed, () => {
      if (seed.length !== 32) throw new TypeError('an Ed25519 seed is 32 bytes')
      const pair = { publicKey: new Uint8Array(32), secretKey: new Uint8Array(64) }
      sodium.crypto_sign_seed_keypair(pair.publicKey, pair.secretKey, seed)
      return pair
    })
  const keys = new KeyCache<boolean>(PUBLIC_KEY_CACHE_ENTRIES)
  return {
    name: 'sodium',
    sign: (message, seed) => {
      const sig = new Uint8Array(64)
      sodium.crypto_sign_detached(sig, message, pairOf(seed).secretKey)
      return sig
    },
    verify: (sig, message, publicKey) =>
      signatureInRule(sig) &&
      keys.get(publicKey, () => publicKeyInRule(publicKey) !== null) &&
      sodium.crypto_sign_verify_detached(sig, message, publicKey),
    publicKey: (seed) => pairOf(seed).publicKey.slice(),
  }
}
