/**
 * A storage budget (`maxRepoBytes`) seeded from what the platform says this origin may
 * store: `navigator.storage.estimate()` (the Storage Standard, WHATWG, "StorageManager"),
 * in browsers and wherever else it exists. No Node built-in.
 */
import { KernelError } from './errors.ts'

/** What `StorageManager.estimate()` resolves with (either figure may be missing). */
export interface StorageEstimate {
  /** Bytes the origin may store. */
  quota?: number
  /** Bytes the origin stores now (all of its databases and caches). */
  usage?: number
}

/** What `navigator.storage` offers here (the one method used). */
export interface StorageEstimator {
  /** Resolves with the origin's quota and usage in bytes. */
  estimate(): Promise<StorageEstimate>
}

/** Options of {@link storageBudget}. */
export interface StorageBudgetOptions {
  /**
   * Share of the quota left by the origin's other data (quota minus their usage) the
   * repo's database may take, above 0 and at most 1 (default 0.5,
   * {@link DEFAULT_STORAGE_FRACTION}): the rest stays free for the page's other data.
   */
  fraction?: number
  /**
   * Disk bytes the storage takes per byte of block (default 2,
   * {@link DEFAULT_DISK_BYTES_PER_BLOCK_BYTE}, the scale bench's target): `maxRepoBytes`
   * counts block bytes, the quota counts what the database writes (blocks, state, index
   * and the engine's own overhead). At least 1.
   */
  diskBytesPerBlockByte?: number
  /**
   * Bytes of the estimate's `usage` that are this app's own database (default: all of
   * it, the common case of a page whose only storage is its kernel's). They are the
   * repo's to keep, so only the rest counts against the quota: a restart of a full repo
   * gets the budget it had, and does not drop what it holds. Pass 0 on a first boot of a
   * page that stores other things too. Whole bytes, at least 0 (more than `usage` counts
   * as `usage`).
   */
  ownUsageBytes?: number
  /**
   * Smallest budget returned (default 1 MiB, {@link MIN_STORAGE_BUDGET_BYTES}): a full or
   * tiny quota never asks the store to drop everything it holds. Whole bytes, at least 1.
   */
  minBytes?: number
  /**
   * Returned when there is no estimate (no `navigator.storage`, as in Node; the call
   * rejects; or no finite quota): default `undefined`, which `maxRepoBytes` reads as no
   * limit. Whole bytes, at least 1, when given.
   */
  fallbackBytes?: number
  /** Where to ask (default `globalThis.navigator?.storage`); tests pass a stub. */
  storage?: StorageEstimator
}

/** Default {@link StorageBudgetOptions.fraction}: half of the free space. */
export const DEFAULT_STORAGE_FRACTION = 0.5
/** Default {@link StorageBudgetOptions.diskBytesPerBlockByte}: 2 disk bytes per block byte. */
export const DEFAULT_DISK_BYTES_PER_BLOCK_BYTE = 2
/** Default {@link StorageBudgetOptions.minBytes}: 1 MiB. */
export const MIN_STORAGE_BUDGET_BYTES = 1024 * 1024

const isWholeBytes = (value: unknown, least: number): value is number =>
  Number.isSafeInteger(value) && (value as number) >= least

const bad = (message: string) => new KernelError('KERNEL_INVALID_INPUT', message)

/**
 * A `maxRepoBytes` for a kernel (or a store) from the storage estimate:
 * `fraction * (quota - (usage - ownUsageBytes)) / diskBytesPerBlockByte`, rounded down,
 * at least `minBytes`; `fallbackBytes` when the platform gives no estimate. With the
 * defaults: a quarter of the quota, in block bytes (half of it, at 2 disk bytes each).
 *
 * ```ts
 * const maxRepoBytes = await storageBudget()      // undefined in Node: no limit
 * const kernel = new SimpleKernel('my-app', { maxRepoBytes })
 * ```
 *
 * The estimate is the browser's (it may round or pad it), and other pages of the origin
 * may write after it: the store still survives a `QuotaExceededError` (it lowers its
 * budget to what it holds and drops the lowest-ranked chains), this only sets the
 * budget so that it rarely has to.
 * @returns bytes of blocks, or `fallbackBytes` (`undefined` by default) without an estimate
 * @throws KERNEL_INVALID_INPUT for a `fraction` outside (0, 1], a `diskBytesPerBlockByte`
 *   below 1 or not finite, an `ownUsageBytes`, `minBytes` or `fallbackBytes` that is not a
 *   whole byte count (`ownUsageBytes` >= 0, the others >= 1), a `storage` without
 *   `estimate()`, or options that are not an object (the promise rejects)
 */
export async function storageBudget(
  options: StorageBudgetOptions = {},
): Promise<number | undefined> {
  if (options === null || typeof options !== 'object') throw bad('options must be an object')
  const {
    fraction = DEFAULT_STORAGE_FRACTION,
    diskBytesPerBlockByte = DEFAULT_DISK_BYTES_PER_BLOCK_BYTE,
    minBytes = MIN_STORAGE_BUDGET_BYTES,
    fallbackBytes,
  } = options
  if (!(typeof fraction === 'number' && fraction > 0 && fraction <= 1)) {
    throw bad('fraction must be a number above 0 and at most 1')
  }
  if (
    !(
      typeof diskBytesPerBlockByte === 'number' &&
      Number.isFinite(diskBytesPerBlockByte) &&
      diskBytesPerBlockByte >= 1
    )
  ) {
    throw bad('diskBytesPerBlockByte must be a finite number of at least 1')
  }
  const { ownUsageBytes } = options
  if (ownUsageBytes !== undefined && !isWholeBytes(ownUsageBytes, 0)) {
    throw bad('ownUsageBytes must be a whole number of bytes')
  }
  if (!isWholeBytes(minBytes, 1)) throw bad('minBytes must be a whole number of bytes, at least 1')
  if (fallbackBytes !== undefined && !isWholeBytes(fallbackBytes, 1)) {
    throw bad('fallbackBytes must be a whole number of bytes, at least 1')
  }
  const storage =
    'storage' in options
      ? options.storage
      : (globalThis as { navigator?: { storage?: StorageEstimator } }).navigator?.storage
  if (storage === undefined) return fallbackBytes
  if (typeof storage?.estimate !== 'function') throw bad('storage has no estimate()')
  let estimate: StorageEstimate
  try {
    estimate = await storage.estimate()
  } catch {
    return fallbackBytes // e.g. a context where the Storage API is refused
  }
  const { quota, usage = 0 } = estimate ?? {}
  if (typeof quota !== 'number' || !Number.isFinite(quota) || quota <= 0) return fallbackBytes
  const used = typeof usage === 'number' && Number.isFinite(usage) && usage > 0 ? usage : 0
  const others = used - Math.min(used, ownUsageBytes ?? used)
  const budget = Math.floor((fraction * Math.max(0, quota - others)) / diskBytesPerBlockByte)
  return Math.max(minBytes, budget)
}
