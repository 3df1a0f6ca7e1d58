import { afterEach, describe, expect, it, vi } from 'vitest'
import { SimpleKernel, storageBudget } from '../src/index.ts'

const MiB = 1024 * 1024
const GiB = 1024 * MiB

/** A `navigator.storage` that answers `estimate` with `answer` and counts the calls. */
function stubNavigator(answer: () => Promise<{ quota?: number; usage?: number }>) {
  const estimate = vi.fn(answer)
  vi.stubGlobal('navigator', { storage: { estimate } })
  return estimate
}

const codeOf = async (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (err: { code?: string }) => err.code,
  )

afterEach(() => {
  vi.unstubAllGlobals()
})

describe('storageBudget', () => {
  it('asks navigator.storage: half the quota left by others, in block bytes at 2 disk bytes each', async () => {
    const estimate = stubNavigator(async () => ({ quota: 4 * GiB, usage: 1 * GiB }))
    // By default all of the usage is this app's own database: a quarter of the quota.
    expect(await storageBudget()).toBe(GiB)
    // 1 GiB used, 256 MiB of it ours: 3.25 GiB left by others, half of it, halved again.
    expect(await storageBudget({ ownUsageBytes: 256 * MiB })).toBe(Math.floor((3.25 * GiB) / 4))
    expect(await storageBudget({ ownUsageBytes: 0, fraction: 1, diskBytesPerBlockByte: 1 })).toBe(
      3 * GiB,
    )
    // More "own" bytes than the usage count as the usage.
    expect(await storageBudget({ ownUsageBytes: 8 * GiB, fraction: 1 })).toBe(2 * GiB)
    expect(estimate).toHaveBeenCalledTimes(4)
  })

  it('a restart of a full repo gets the budget it had (its own usage does not count against it)', async () => {
    let usage = 0
    stubNavigator(async () => ({ quota: 400 * MiB, usage }))
    const first = (await storageBudget())!
    usage = first * 2 // the repo filled its budget, at 2 disk bytes per block byte
    expect(await storageBudget()).toBe(first)
  })

  it('never goes below minBytes, and a kernel takes the figure as maxRepoBytes', async () => {
    stubNavigator(async () => ({ quota: 10 * MiB, usage: 10 * MiB }))
    expect(await storageBudget({ ownUsageBytes: 0 })).toBe(MiB) // others filled the quota
    expect(await storageBudget({ ownUsageBytes: 0, minBytes: 4096 })).toBe(4096)
    const maxRepoBytes = await storageBudget({ minBytes: 5000, ownUsageBytes: 0 })
    const kernel = new SimpleKernel(undefined, { maxRepoBytes })
    await kernel.boot()
    await kernel.close()
    expect(maxRepoBytes).toBe(5000)
  })

  it('without an estimate: fallbackBytes (undefined by default, no limit)', async () => {
    vi.stubGlobal('navigator', undefined) // as in Node 20: no navigator at all
    expect(await storageBudget()).toBeUndefined()
    expect(await storageBudget({ fallbackBytes: 50 * MiB })).toBe(50 * MiB)
    vi.stubGlobal('navigator', {}) // a navigator without the Storage API
    expect(await storageBudget({ fallbackBytes: 7 })).toBe(7)
    stubNavigator(() => Promise.reject(new DOMException('denied', 'SecurityError')))
    expect(await storageBudget({ fallbackBytes: 8 })).toBe(8)
    for (const answer of [{}, { quota: 0 }, { quota: Number.NaN }, { quota: Infinity }]) {
      expect(await storageBudget({ storage: { estimate: async () => answer } })).toBeUndefined()
    }
    // An explicit storage wins over navigator's; `storage: undefined` means none.
    expect(await storageBudget({ storage: undefined, fallbackBytes: 9 })).toBe(9)
    const storage = { estimate: async () => ({ quota: 8 * MiB, usage: 0 }) }
    expect(await storageBudget({ storage })).toBe(2 * MiB)
  })

  it('refuses bad options with KERNEL_INVALID_INPUT, before asking', async () => {
    const estimate = stubNavigator(async () => ({ quota: GiB, usage: 0 }))
    const bad: unknown[] = [
      null,
      'half',
      { fraction: 0 },
      { fraction: 1.5 },
      { fraction: Number.NaN },
      { fraction: '0.5' },
      { diskBytesPerBlockByte: 0.5 },
      { diskBytesPerBlockByte: Infinity },
      { ownUsageBytes: -1 },
      { ownUsageBytes: 1.5 },
      { minBytes: 0 },
      { minBytes: 2 ** 60 },
      { fallbackBytes: 0 },
      { fallbackBytes: -5 },
      { storage: null },
      { storage: { estimate: 'soon' } },
    ]
    for (const options of bad) {
      expect(await codeOf(storageBudget(options as never))).toBe('KERNEL_INVALID_INPUT')
    }
    expect(estimate).not.toHaveBeenCalled()
  })
})
