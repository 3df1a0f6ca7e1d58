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
