/**
 * What every case of the sync bench (`bench/src/suites/sync.ts`) shares: kernels of their
 * own identity, counting links between them, waits that give up after a step timeout and
 * then say what the open kernels and links were doing, temporary folders removed at the
 * end, and progress lines.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type KernelOptions, MessageType, signPair } from '@picostack/kernel'
import { BenchCounter, type BenchKernel, BenchTodo, type TodoBenchKernel } from './kernels.ts'
import { type MeteredLink, meteredLink } from './metered-link.ts'
import { formatBytes, formatMs } from './report.ts'

/** How the harness builds kernels and how long it waits. */
export interface HarnessOptions {
  /** The kernels' limits (the sync bench raises version 1's to fit its N). */
  limits: KernelOptions['limits']
  /** Longest wait for any one step before it fails (ms). */
  stepTimeoutMs: number
}

/**
 * A session counts as done when its link has carried nothing for this long (ms); its
 * time is the time of its last frame, so a longer wait changes no figure, it only catches
 * a side that is still working (listing 100,000 chains from disk can pause the traffic).
 */
export const QUIET_MS = 1000

const typeNames = new Map<number, string>(
  Object.entries(MessageType as Record<string, number>).map(([name, n]) => [n, name]),
)
typeNames.set(-1, 'error/close')

/** Bytes per message type, both ways, as `name: bytes` text, largest first. */
export function byType(link: MeteredLink): string {
  const totals = new Map<number, number>()
  for (const d of link.directions) {
    for (const [type, bytes] of d.bytesByType) totals.set(type, (totals.get(type) ?? 0) + bytes)
  }
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .map(([type, bytes]) => `${typeNames.get(type) ?? type}: ${formatBytes(bytes)}`)
    .join(', ')
}

/** Kernels, links and folders of one bench run; {@link SyncHarness.abort} and {@link SyncHarness.removeDirs} tear them down. */
export class SyncHarness {
  readonly #options: HarnessOptions
  readonly #started = performance.now()
  /** Kernels and links not closed yet: closed when a case fails, described when a step times out. */
  readonly #kernels = new Set<BenchKernel>()
  readonly #links = new Set<MeteredLink>()
  readonly #dirs: string[] = []

  constructor(options: HarnessOptions) {
    this.#options = options
  }

  /** Prints a progress line: seconds since the run started, and what just finished. */
  progress(what: string): void {
    console.log(`[+${((performance.now() - this.#started) / 1000).toFixed(0)} s] ${what}`)
  }

  /** A to-do kernel of its own identity (copied folders hold the copied secret: replaced here). */
  todo(db?: string): TodoBenchKernel {
    const k = new BenchTodo(db, { secret: signPair().sk, limits: this.#options.limits })
    this.#kernels.add(k)
    return k
  }

  /** A counting kernel (in memory): a store that only counts what merged. */
  counter(): BenchKernel {
    const k = new BenchCounter(undefined, { secret: signPair().sk, limits: this.#options.limits })
    this.#kernels.add(k)
    return k
  }

  async boot(...kernels: BenchKernel[]): Promise<void> {
    await Promise.all(kernels.map((k) => k.boot()))
  }

  async close(...kernels: BenchKernel[]): Promise<void> {
    for (const k of kernels) this.#kernels.delete(k)
    await Promise.all(kernels.map((k) => k.close()))
  }

  /** Joins two kernels through a counting link (see metered-link.ts). */
  connect(
    a: BenchKernel,
    b: BenchKernel,
    onframe?: Parameters<typeof meteredLink>[2],
  ): MeteredLink {
    const link = meteredLink(a.spawnWire(), b.spawnWire(), onframe)
    this.#links.add(link)
    return link
  }

  /** Closes `links` without waiting for the sessions to end. */
  unlink(...links: MeteredLink[]): void {
    for (const link of links) {
      this.#links.delete(link)
      link.close()
    }
  }

  /** Closes `link` and waits until none of `kernels` lists a peer. */
  async disconnect(link: MeteredLink, ...kernels: BenchKernel[]): Promise<void> {
    this.unlink(link)
    await this.until(() => kernels.every((k) => k.peers.length === 0), 'sessions to close')
  }

  /** Polls `check` every 5 ms; fails after the step timeout, saying what was awaited. */
  async until(check: () => boolean, what: string): Promise<void> {
    const deadline = performance.now() + this.#options.stepTimeoutMs
    while (!check()) {
      if (performance.now() > deadline) throw new Error(`timed out: ${what} (${this.state()})`)
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  }

  /**
   * `promise`, or an error after the step timeout saying what was awaited and what the
   * kernels and links were doing (a timer keeps the process alive meanwhile).
   */
  async within<T>(promise: Promise<T>, what: string): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`timed out: ${what} (${this.state()})`)),
        this.#options.stepTimeoutMs,
      )
    })
    try {
      return await Promise.race([promise, timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  /** A folder for a classic-level database, removed by {@link SyncHarness.removeDirs}. */
  tmpDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'bench-sync-'))
    this.#dirs.push(dir)
    return dir
  }

  /** After a failed case: closes every link and kernel still open. */
  async abort(): Promise<void> {
    this.unlink(...this.#links)
    await this.close(...this.#kernels)
  }

  /** Removes the folders {@link SyncHarness.tmpDir} made. */
  removeDirs(): void {
    for (const dir of this.#dirs) rmSync(dir, { recursive: true, force: true })
  }

  /** What the open kernels and links are doing (for a timed-out step). */
  state(): string {
    const kernels = [...this.#kernels].map(
      (k, i) =>
        `kernel ${i}: ${k.mergedCount()} merged, ${k.peers.length} peers` +
        k.peers
          .flatMap((p) => p.stats.errors.map((e) => `, peer sent ${e.code}: ${e.reason}`))
          .join('') +
        (k.failures.length ? `, sessions ended: ${k.failures.slice(-4).join('; ')}` : ''),
    )
    const now = performance.now()
    const links = [...this.#links].map(
      (l, i) =>
        `link ${i}: ${formatBytes(l.totalBytes())} (${byType(l)}), last frame ${formatMs(now - l.lastFrameAt())} ago`,
    )
    return [...kernels.slice(0, 6), ...links.slice(0, 6)].join(' | ')
  }
}
