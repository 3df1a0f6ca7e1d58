/** A bounded cache keyed by raw key bytes, for the Ed25519 backends' key objects and checks. */
import { bytesEqual } from './bytes.ts'

/** Public keys whose checks (and key objects) a backend keeps; oldest forgotten first. */
export const PUBLIC_KEY_CACHE_ENTRIES = 4096

/** Secret keys whose key objects a backend keeps; oldest forgotten first. */
export const SECRET_KEY_CACHE_ENTRIES = 256

/** Cache key for 32 raw bytes: a latin1 string is cheaper than hex. */
function cacheKey(bytes: Uint8Array): string {
  return String.fromCharCode.apply(null, bytes as unknown as number[])
}

/**
 * Bounded map keyed by raw key bytes: forgets the oldest entry when full. The entry used
 * last is checked first by comparing bytes, which spares building a string key on the
 * hot path (one author appending, or verifying a run of blocks by one author).
 */
export class KeyCache<V> {
  readonly #map = new Map<string, V>()
  #lastBytes: Uint8Array | undefined // our own copy, so callers can reuse their arrays
  #lastValue: V | undefined
  constructor(readonly maxEntries: number) {}
  get(bytes: Uint8Array, make: () => V): V {
    if (this.#lastBytes !== undefined && bytesEqual(this.#lastBytes, bytes)) {
      return this.#lastValue as V
    }
    const k = cacheKey(bytes)
    let v = this.#map.get(k)
    if (v === undefined) {
      v = make()
      if (this.#map.size >= this.maxEntries) this.#map.delete(this.#map.keys().next().value!)
      this.#map.set(k, v)
    }
    this.#lastBytes = bytes.slice()
    this.#lastValue = v
    return v
  }
}
