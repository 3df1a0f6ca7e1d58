/**
 * A peer as a separate Node process: `todo serve` forked with an IPC channel, driven by
 * the demo and the multi-process tests.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { IpcReply } from '../src/cli.ts'
import type { CommandResult } from '../src/commands.ts'
import type { Task } from '../src/kernel.ts'

/** The package folder (where `tsx` resolves from). */
export const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/** Where a {@link PeerProcess} keeps its data and whom it meets. */
export interface PeerProcessOptions {
  /** Its classic-level directory (identity and tasks). */
  dataDir: string
  /** The list's shared name. */
  topic: string
  /** A local testnet's bootstrap node, `127.0.0.1:port`. */
  bootstrap: string
  /** Show what the peer prints (default: hide it). */
  verbose?: boolean
}

/** One peer process running `todo serve`, driven over IPC. */
export class PeerProcess {
  readonly child: ChildProcess
  readonly ready: Promise<string>
  readonly exited: Promise<number | null>
  #next = 1
  readonly #pending = new Map<number, (reply: IpcReply) => void>()

  constructor(
    readonly name: string,
    { dataDir, topic, bootstrap, verbose = false }: PeerProcessOptions,
  ) {
    this.child = fork(
      join(root, 'src/cli.ts'),
      ['serve', '--topic', topic, '--bootstrap', bootstrap, '--data', dataDir],
      {
        cwd: root,
        execArgv: ['--import', 'tsx', '--conditions=@picostack/source'],
        stdio: ['ignore', verbose ? 'inherit' : 'ignore', 'inherit', 'ipc'],
      },
    )
    this.exited = new Promise((resolve) => this.child.once('exit', resolve))
    this.ready = new Promise((resolve, reject) => {
      this.child.once('exit', (code) => reject(new Error(`${name} exited early (${code})`)))
      this.child.on('message', (msg: IpcReply | { ready: true; pk: string }) => {
        if ('ready' in msg) return resolve(msg.pk)
        this.#pending.get(msg.id)?.(msg)
        this.#pending.delete(msg.id)
      })
    })
  }

  /** Runs a `todo` command in the peer; rejects with the peer's error. */
  run(...args: string[]): Promise<CommandResult> {
    const id = this.#next++
    return new Promise((resolve, reject) => {
      this.#pending.set(id, (reply) =>
        reply.ok
          ? resolve(reply.result)
          : reject(Object.assign(new Error(reply.error.message), reply.error)),
      )
      this.child.send({ id, args })
    })
  }

  async list(): Promise<Task[]> {
    return (await this.run('list')).tasks ?? []
  }

  async quit(): Promise<number | null> {
    this.child.send('quit')
    return this.exited
  }
}

/** Polls until every peer lists the same tasks (ids, statuses, assignees) and `check` holds. */
export async function converge(
  peers: PeerProcess[],
  check: (tasks: Task[]) => boolean = () => true,
  timeoutMs = 60_000,
): Promise<Task[]> {
  const start = Date.now()
  for (;;) {
    const lists = await Promise.all(peers.map((peer) => peer.list()))
    const views = lists.map((tasks) =>
      JSON.stringify(tasks.map((t) => [t.id, t.status, t.assignee, t.updated])),
    )
    if (views.every((view) => view === views[0]) && check(lists[0]!)) return lists[0]!
    if (Date.now() - start > timeoutMs) throw new Error('peers did not converge in time')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
