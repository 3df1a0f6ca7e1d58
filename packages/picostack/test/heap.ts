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

/** A summary entry for a chain nobody holds: random ids, height 1. */
function randomHead(): ChainHead {
  return {
    chainId: crypto.getRandomValues(new Uint8Array(64)),
    author: crypto.getRandomValues(new Uint8Array(32)),
    headId: crypto.getRandomValues(new Uint8Array(64)),
    height: 1,
  }
}

/**
 * The summary pages of a peer announcing as many chains as default limits allow
 * (`maxRemoteChains`, `maxSummaryChains` a page: 256 pages, ~10.5 MiB), chains nobody holds.
 */
export function announcingPages(): Uint8Array[] {
  const { maxSummaryChains, maxRemoteChains } = DEFAULT_SYNC_LIMITS
  const count = maxRemoteChains / maxSummaryChains
  return Array.from({ length: count }, (_, i) =>
    encodeMessage({
      type: 'summary',
      chains: Array.from({ length: maxSummaryChains }, randomHead),
      last: i === count - 1,
    }),
  )
}
