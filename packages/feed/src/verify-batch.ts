import { activeEd25519, type VerifyItem, webCryptoEd25519 } from './crypto.ts'
import { workerVerifier } from './worker-verifier.ts'

/** WebCrypto checks kept in flight at once by {@link verifyBatch} (bounds its memory). */
const BATCH_IN_FLIGHT = 1024

/**
 * Verifies many signatures at once under the rule (docs/block-format.md, "Signatures");
 * resolves to one boolean per item, in order. In Node with the optional dependency
 * `sodium-native` installed: libsodium on worker threads (worker-verifier.ts; about half
 * the CPU of OpenSSL per signature, off the main thread and off libuv's pool), once its
 * workers have started (the first calls, while they load, and a call whose worker died
 * take the next way). Else WebCrypto Ed25519 where the platform has it, up to 1,024
 * checks in flight (in Node on libuv's thread pool, so all cores help), else the
 * synchronous implementation. `pnpm bench feed` compares them.
 */
export async function verifyBatch(items: readonly VerifyItem[]): Promise<boolean[]> {
  const workers = workerVerifier()
  if (workers?.ready) {
    try {
      return await workers.verify(items)
    } catch {
      // a worker died with these in flight: checked below instead
    }
  }
  const web = await webCryptoEd25519()
  if (!web) {
    const sync = activeEd25519()
    return items.map((i) => sync.verify(i.sig, i.message, i.publicKey))
  }
  const results: boolean[] = []
  for (let at = 0; at < items.length; at += BATCH_IN_FLIGHT) {
    const chunk = items.slice(at, at + BATCH_IN_FLIGHT)
    results.push(
      ...(await Promise.all(chunk.map((i) => web.verify(i.sig, i.message, i.publicKey)))),
    )
  }
  return results
}
