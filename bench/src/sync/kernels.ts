/**
 * The kernels of the sync bench: each counts the `tasks` blocks its store merged (a slice,
 * to wait on) and keeps why its sessions ended with an error (to say why a step timed out).
 *
 * - {@link BenchTodo}: the to-do app's kernel (`TodoKernel`, tasks on disk with
 *   `snapshot: false`, as the phone-scale bench runs it): what a receiver really does.
 * - {@link BenchCounter}: a bare `SimpleKernel` whose store only counts (the kernel of
 *   `pnpm bench kernel`): the receiver's cost is then mostly the protocol's and the repo's.
 */
import { type KernelOptions, type Peer, SimpleKernel } from '@picostack/kernel'
import { TodoKernel, type TodoOptions } from 'todo'

/** What the bench needs of a kernel beyond SimpleKernel. */
export interface Counting {
  /** Why sessions ended with an error (the reason, and the codes the peer sent), newest last. */
  readonly failures: string[]
  /** Resolves when the store has merged `n` more `tasks` blocks than it has now. */
  counted(n: number): Promise<void>
  /** `tasks` blocks the store has merged (held on disk with the slice). */
  mergedCount(): number
}

/** A bench kernel: {@link BenchTodo} or {@link BenchCounter}. */
export type BenchKernel = SimpleKernel & Counting

// biome-ignore lint/suspicious/noExplicitAny: TypeScript requires a mixin's constructor to take any[]
type KernelClass = new (...args: any[]) => SimpleKernel

function counting<T extends KernelClass>(Base: T) {
  return class extends Base implements Counting {
    readonly failures: string[] = []
    readonly merged = this.store.register({
      name: 'bench-merged',
      initialValue: 0,
      filter: ({ block }) => SimpleKernel.decodeBlock(block.body).type !== 'tasks',
      reducer: ({ state }) => state + 1,
    })

    override ondisconnect(peer: Peer, reason: Error | undefined): void {
      if (reason) this.failed('disconnected', peer, reason)
    }

    override onrefuse(peer: Peer, reason: Error | undefined): void {
      this.failed('refused', peer, reason)
    }

    failed(what: string, peer: Peer, reason: Error | undefined): void {
      const code = (reason as { code?: string } | undefined)?.code ?? ''
      const sent = peer.stats.errors.map((e) => e.code).join(' ')
      this.failures.push(
        `${what}: ${code} ${reason?.message ?? ''}${sent ? ` (peer sent ${sent})` : ''}`,
      )
    }

    mergedCount(): number {
      return this.merged.state as number
    }

    counted(n: number): Promise<void> {
      const target = (this.merged.state as number) + n
      return new Promise((resolve) => {
        const stop = this.merged.sub((count: number) => {
          if (count < target) return
          queueMicrotask(() => stop())
          resolve()
        })
      })
    }
  }
}

/** The to-do kernel, tasks on disk (`snapshot: false`), counting (see the file's comment). */
export const BenchTodo: new (
  db?: ConstructorParameters<typeof SimpleKernel>[0],
  options?: TodoOptions,
) => TodoKernel & Counting = counting(
  class extends TodoKernel {
    constructor(...[db, options]: ConstructorParameters<typeof SimpleKernel>) {
      super(db, { snapshot: false, ...options })
    }
  },
)

/** An instance of {@link BenchTodo}. */
export type TodoBenchKernel = TodoKernel & Counting

/** A bare kernel whose store only counts (see the file's comment). */
export const BenchCounter: new (
  db?: ConstructorParameters<typeof SimpleKernel>[0],
  options?: KernelOptions,
) => BenchKernel = counting(SimpleKernel)
