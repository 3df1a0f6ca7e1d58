import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { type ChainHead, DEFAULT_SYNC_LIMITS, encodeMessage } from '../src/index.ts'

/**
 * What a kernel with default limits may grow by while hostile peers push at it
 * (docs/security.md): the bound the heap tests of the kernel and the relay assert.
 */
export const HEAP_BOUND_BYTES = 64 * 1024 * 1024

// The test runner starts Node without --expose-gc; the flag can still be set at run time and
// `gc` taken from a fresh context.
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** Heap and array buffers in use after a full collection, in bytes. */
export function usedBytes(): number {
  gc()
  gc()
  const { heapUsed, arrayBuffers } = process.memoryUsage()
  return heapUsed + arrayBuffers
}

/** A head of a chain nobody holds: random ids, height 1. */
function randomHead(): ChainHead {
  return {
    chainId: crypto.getRandomValues(new Uint8Array(64)),
    headId: crypto.getRandomValues(new Uint8Array(64)),
    height: 1,
  }
}

/** Heads per announcing page: about 35 KiB of `have`. */
const PAGE_HEADS = 256

/**
 * `have` pages of a peer announcing 98,304 chains nobody holds (384 pages of 256 heads,
 * ~12.6 MiB: more than a version 1 summary of `maxRemoteChains` took).
 */
export function announcingPages(): Uint8Array[] {
  const count = (DEFAULT_SYNC_LIMITS.maxRemoteChains * 1.5) / PAGE_HEADS
  return Array.from({ length: count }, () =>
    encodeMessage({ type: 'have', heads: Array.from({ length: PAGE_HEADS }, randomHead) }),
  )
}
