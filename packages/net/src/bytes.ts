import { NetError } from './errors.ts'

/**
 * `bytes` as a plain `Uint8Array` view over the same memory (no copy), so a Node
 * `Buffer` given as input never leaks out of the API as a `Buffer`.
 * @throws NET_INVALID_INPUT when `bytes` is not a Uint8Array
 */
export function plainBytes(bytes: Uint8Array): Uint8Array {
  if (!(bytes instanceof Uint8Array)) {
    throw new NetError('NET_INVALID_INPUT', 'messages must be Uint8Array')
  }
  return Object.getPrototypeOf(bytes) === Uint8Array.prototype
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** `parts` one after another in one new array (always a copy). */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0))
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}
