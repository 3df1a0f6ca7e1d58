/** The Ed25519 backends in Node, for the tests that compare them or switch between them. */
import { afterEach } from 'vitest'
import {
  activeEd25519,
  type Ed25519,
  type Ed25519Async,
  nodeEd25519,
  sodiumEd25519,
  useEd25519,
  type WorkerVerifier,
  webCryptoEd25519,
  workerVerifier,
} from '../src/index.ts'

/**
 * Registers an `afterEach` that puts back the backend active now, so a test that calls
 * `useEd25519` leaves the next one as it found it.
 * @returns the backend active now
 */
export function restoreEd25519AfterEach(): Ed25519 {
  const initial = activeEd25519()
  afterEach(() => {
    useEd25519(initial)
  })
  return initial
}

/** The node:crypto backend (these tests run in Node, where it exists). */
export function requireNode(): Ed25519 {
  if (!nodeEd25519) throw new Error('these tests run in Node, where node:crypto exists')
  return nodeEd25519
}

/** The libsodium backend on this thread (sodium-native is installed for the tests). */
export function requireSodium(): Ed25519 {
  const sodium = sodiumEd25519()
  if (!sodium) throw new Error('sodium-native is installed for these tests')
  return sodium
}

/** The WebCrypto backend (Node >= 20 has WebCrypto Ed25519). */
export async function requireWeb(): Promise<Ed25519Async> {
  const web = await webCryptoEd25519()
  if (!web) throw new Error('Node >= 20 has WebCrypto Ed25519')
  return web
}

/** The shared libsodium worker pool, once ready (sodium-native is installed for the tests). */
export async function requireWorkers(): Promise<WorkerVerifier> {
  const pool = workerVerifier()
  if (!pool) throw new Error('sodium-native is installed for these tests')
  while (!pool.ready) await new Promise((resolve) => setTimeout(resolve, 10))
  return pool
}
