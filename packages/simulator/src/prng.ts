import { sha256 } from '@noble/hashes/sha2.js'
import { SimError } from './errors.ts'

/**
 * A seeded pseudo-random generator: sfc32 (Chris Doty-Humphrey's "small fast counting"
 * generator, 128 bits of state), seeded from the SHA-256 of a label. Not cryptographic:
 * it makes runs repeatable, nothing more. Every random choice of a simulation (links,
 * jitter, loss, secrets, node ids, scenario choices) comes from one of these.
 */
export class Prng {
  #a: number
  #b: number
  #c: number
  #d: number

  /** The seed this generator was made from. */
  readonly seed: string

  /** @param seed - any string or number; the same seed gives the same sequence */
  constructor(seed: string | number) {
    this.seed = String(seed)
    const digest = sha256(new TextEncoder().encode(this.seed))
    const view = new DataView(digest.buffer, digest.byteOffset, digest.byteLength)
    this.#a = view.getUint32(0)
    this.#b = view.getUint32(4)
    this.#c = view.getUint32(8)
    this.#d = view.getUint32(12)
    for (let i = 0; i < 12; i++) this.uint32() // mix the seed in
  }

  /** The next 32 random bits, as an unsigned integer. */
  uint32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0
    this.#d = (this.#d + 1) | 0
    this.#a = this.#b ^ (this.#b >>> 9)
    this.#b = (this.#c + (this.#c << 3)) | 0
    this.#c = (this.#c << 21) | (this.#c >>> 11)
    this.#c = (this.#c + t) | 0
    return t >>> 0
  }

  /** A float in [0, 1). */
  next(): number {
    return this.uint32() / 0x1_0000_0000
  }

  /**
   * An integer in [min, max], both included.
   * @throws SIM_INVALID_INPUT when the bounds are not integers with min <= max
   */
  int(min: number, max: number): number {
    if (!Number.isInteger(min) || !Number.isInteger(max) || min > max) {
      throw new SimError('SIM_INVALID_INPUT', `no integer in [${min}, ${max}]`)
    }
    return min + Math.floor(this.next() * (max - min + 1))
  }

  /** `length` random bytes (the kernel's `randomBytes` option). */
  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length)
    for (let i = 0; i < length; i += 4) {
      const word = this.uint32()
      for (let j = 0; j < 4 && i + j < length; j++) out[i + j] = (word >>> (8 * j)) & 0xff
    }
    return out
  }

  /**
   * One element of `items`, uniformly.
   * @throws SIM_INVALID_INPUT when `items` is empty
   */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new SimError('SIM_INVALID_INPUT', 'nothing to pick from')
    return items[Math.floor(this.next() * items.length)]!
  }

  /** A new shuffled copy of `items` (Fisher-Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items]
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1))
      ;[out[i], out[j]] = [out[j]!, out[i]!]
    }
    return out
  }

  /**
   * An independent generator for `label`, derived from this one's seed (not from its
   * position), so more draws here do not change a fork's sequence.
   */
  fork(label: string): Prng {
    return new Prng(`${this.seed}/${label}`)
  }
}
