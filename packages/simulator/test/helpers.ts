import { TodoKernel } from 'todo'
import { Simulator, type SimulatorOptions } from '../src/index.ts'

/**
 * The to-do app's tasks as comparable text (id and status), read page by page from disk:
 * the kernels keep no snapshot, as the app's default, so `stateOf` is async.
 */
export async function taskView(kernel: TodoKernel): Promise<string[]> {
  const view: string[] = []
  for (let query = {}; query; ) {
    const page = await kernel.tasks.query({ ...query, limit: 100 })
    for (const { id, value } of page.items) view.push(`${id}:${value.status}`)
    query = page.next!
  }
  return view
}

/** A simulator of to-do kernels. */
export function todoSimulator(options: Partial<SimulatorOptions<TodoKernel>> = {}) {
  return new Simulator<TodoKernel>({
    kernel: (db, kernelOptions) => new TodoKernel(db, kernelOptions),
    stateOf: taskView,
    ...options,
  })
}

/**
 * A small churning scenario: `peers` peers, a third make a task, a crash and a leave with
 * restarts, a partition healed 20 s later, lossy links.
 */
export function churningSwarm(seed: string | number, peers = 12) {
  const sim = todoSimulator({
    seed,
    link: { latencyMs: 30, jitterMs: 30, bandwidthBytesPerSec: 100_000, loss: 0.05 },
  })
  const names = Array.from({ length: peers }, (_, i) => `n${i}`)
  for (const name of names) {
    sim.launch(name, {}, (peer) => {
      if (peer.boots > 1 || sim.random.next() > 0.35) return
      peer.setTimeout(
        async () => {
          const id = await peer.kernel!.addTask(`from ${peer.name}`, { ttlMs: 15_000 })
          peer.signal('created', { id })
          peer.setTimeout(() => peer.kernel!.complete(id), 2_000)
        },
        sim.random.int(500, 25_000),
      )
    })
  }
  sim.setTimeout(() => sim.peer('n1').crash(), 6_000)
  sim.setTimeout(() => sim.peer('n2').leave(), 7_000)
  sim.setTimeout(() => sim.peer('n1').restart(), 12_000)
  sim.setTimeout(() => sim.peer('n2').restart(), 14_000)
  sim.setTimeout(() => sim.partition([names.slice(0, peers / 2)]), 8_000)
  sim.setTimeout(() => sim.heal(), 28_000)
  return sim
}
