/**
 * Where the kernel takes random bytes: node ids, connection nonces, a new identity's seed.
 * Inject a seeded one (e.g. in a simulator) to make runs repeatable.
 * @param length - how many bytes, at most 65 536
 * @returns `length` fresh random bytes
 */
export type RandomBytes = (length: number) => Uint8Array

/** The default {@link RandomBytes}: `crypto.getRandomValues` (a CSPRNG in Node and browsers). */
export const cryptoRandomBytes: RandomBytes = (length) =>
  globalThis.crypto.getRandomValues(new Uint8Array(length))
