/**
 * The chains the sync bench's cases share: N to-do tasks (one chain each, signed once per
 * run), split into those both peers hold and those that differ, and (once a case asks)
 * a classic-level folder holding the shared ones, copied for each pair of peers.
 */
import { cpSync } from 'node:fs'
import type { Feed } from '@picostack/kernel'
import type { SyncHarness } from './harness.ts'
import type { TodoBenchKernel } from './kernels.ts'
import { formatCount, formatMs } from './report.ts'
import { dispatchChains, tasks, writeChains } from './tasks.ts'

/** The chains of one run: `n` in all, of which n/10 differ between the two peers. */
export class Fixture {
  /** Chains in all. */
  readonly n: number
  /** Shared chains whose tasks the store knows (dispatched): the ones that get a newer head (n/50). */
  readonly known: Feed[]
  /** Shared chains written straight into the repo. */
  readonly shared: Feed[]
  /** Chains only the first peer holds (n/20). */
  readonly onlyA: Feed[]
  /** Chains only the second peer holds (3n/100). */
  readonly onlyB: Feed[]
  readonly #harness: SyncHarness
  #baseDir: string | undefined

  constructor(harness: SyncHarness, n: number) {
    this.#harness = harness
    this.n = n
    const onlyA = Math.round(n / 20)
    const onlyB = Math.round((3 * n) / 100)
    const newerHead = Math.round(n / 50)
    const shared = n - onlyA - onlyB
    const started = performance.now()
    const all = tasks(0, n)
    console.log(
      `\nfixture: ${formatCount(n)} tasks signed in ${formatMs(performance.now() - started)}`,
    )
    this.known = all.slice(0, newerHead)
    this.shared = all.slice(newerHead, shared)
    this.onlyA = all.slice(shared, shared + onlyA)
    this.onlyB = all.slice(shared + onlyA)
  }

  /** Every chain, shared ones first. */
  all(): Feed[] {
    return [...this.known, ...this.shared, ...this.onlyA, ...this.onlyB]
  }

  /** The classic-level folder of the shared chains, built by the first case that needs it. */
  async baseDir(): Promise<string> {
    if (this.#baseDir) return this.#baseDir
    const started = performance.now()
    const dir = this.#harness.tmpDir()
    const base = this.#harness.todo(dir)
    await base.boot()
    await writeChains(base, this.shared)
    await dispatchChains(base, this.known)
    await this.#harness.close(base)
    const sharedCount = this.known.length + this.shared.length
    console.log(
      `${formatCount(sharedCount)} shared chains on disk (${formatCount(this.shared.length)} by repo.writeBlocks, ` +
        `${formatCount(this.known.length)} by store.dispatch) in ${formatMs(performance.now() - started)}`,
    )
    this.#baseDir = dir
    return dir
  }

  /** Two booted to-do kernels on copies of {@link Fixture.baseDir}. */
  async pair(): Promise<[TodoBenchKernel, TodoBenchKernel]> {
    const base = await this.baseDir()
    const [dirA, dirB] = [this.#harness.tmpDir(), this.#harness.tmpDir()]
    cpSync(base, dirA, { recursive: true })
    cpSync(base, dirB, { recursive: true })
    const pair: [TodoBenchKernel, TodoBenchKernel] = [
      this.#harness.todo(dirA),
      this.#harness.todo(dirB),
    ]
    await this.#harness.boot(...pair)
    return pair
  }
}
