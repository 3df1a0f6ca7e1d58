import { TodoKernel } from 'todo'
import { expect, it } from 'vitest'
import { Simulator } from '../src/index.ts'

it('two peers sync a task', async () => {
  const sim = new Simulator<TodoKernel>({
    seed: 1,
    kernel: (db, options) => new TodoKernel(db, options),
    stateOf: (k) => k.list().map((t) => t.id),
  })
  let id = ''
  sim.launch('alice', { links: [1, 1] }, async (peer) => {
    id = await peer.kernel!.addTask('hello')
  })
  sim.launch('bob', { links: [1, 1] })
  await sim.run({ until: 5000 })
  expect(
    sim
      .peer('bob')
      .kernel!.list()
      .map((t) => t.id),
  ).toEqual([id])
  console.log(sim.report().text())
  await sim.close()
})
