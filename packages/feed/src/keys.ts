import { asBytes, fromHex, toHex } from './bytes.ts'
import { activeEd25519 } from './crypto.ts'
import { FeedError } from './errors.ts'
import { KeyCache } from './key-cache.ts'

/** A 32-byte Ed25519 seed: 64 hex characters or 32 bytes. */
export type SecretKey = string | Uint8Array
/** A 32-byte Ed25519 public key: 64 hex characters or 32 bytes. */
export type PublicKey = string | Uint8Array

/** A key pair as lowercase hex: `sk` is the 32-byte seed, `pk` the 32-byte public key. */
export interface SignPair {
  /** The secret: a 32-byte Ed25519 seed, 64 hex characters. Keep it private. */
  sk: string
  /** The public key, 32 bytes, 64 hex characters: the author id peers see. */
  pk: string
}

/** Size of a secret seed and of a public key, in bytes. */
export const KEY_BYTES = 32

/**
 * The 32 bytes of a key given as hex or bytes.
 * @throws FEED_INVALID_KEY when it is not 64 hex characters or 32 bytes
 */
export function keyBytes(key: SecretKey | PublicKey, what = 'key'): Uint8Array {
  let bytes: Uint8Array
  try {
    bytes = typeof key === 'string' ? fromHex(key) : asBytes(key, what)
  } catch (cause) {
    throw new FeedError('FEED_INVALID_KEY', `${what} must be 32 bytes or 64 hex characters`, {
      cause,
    })
  }
  if (bytes.length !== KEY_BYTES) {
    throw new FeedError('FEED_INVALID_KEY', `${what} must be 32 bytes, got ${bytes.length}`)
  }
  return bytes
}

/** A fresh random 32-byte secret seed (from `crypto.getRandomValues`), as hex. */
export function generateSecret(): string {
  return toHex(globalThis.crypto.getRandomValues(new Uint8Array(KEY_BYTES)))
}

/**
 * The public key of a secret seed, as lowercase hex.
 * @throws FEED_INVALID_KEY for a malformed secret
 */
export function getPublicKey(secret: SecretKey): string {
  return toHex(activeEd25519().publicKey(keyBytes(secret, 'secret key')))
}

/** A fresh random key pair, both halves as lowercase hex. */
export function signPair(): SignPair {
  const sk = generateSecret()
  return { sk, pk: getPublicKey(sk) }
}

let lastSecretHex: string | undefined
let lastSeed: Uint8Array | undefined

/**
 * The 32-byte seed of `secret`, as {@link keyBytes} gives it, remembering the last hex
 * secret so appending under one identity does not parse hex per block. Internal: the
 * result may be shared, so treat it as read-only.
 * @throws FEED_INVALID_KEY for a malformed secret
 */
export function seedOf(secret: SecretKey): Uint8Array {
  if (typeof secret !== 'string') return keyBytes(secret, 'secret key')
  if (secret !== lastSecretHex || lastSeed === undefined) {
    lastSeed = keyBytes(secret, 'secret key')
    lastSecretHex = secret
  }
  return lastSeed
}

const authors = new KeyCache<Uint8Array>(256)

/**
 * The 32-byte public key of a 32-byte seed, memoised for the last 256 seeds so appending
 * does not derive it per block. Treat the result as read-only.
 */
export function authorOf(seed: Uint8Array): Uint8Array {
  return authors.get(seed, () => activeEd25519().publicKey(seed))
}
