/**
 * Child process of the crash test: boots a to-do kernel (tasks on disk only) on the folder
 * argv[2] and changes it until it is killed: new tasks (some short-lived), status changes
 * and forced expiries, each a batched write. Prints its public key once it is writing.
 */
import { TodoKernel } from '../src/kernel.ts'

const todo = new TodoKernel(process.argv[2]!, { snapshot: false })
await todo.boot()
const ids: string[] = []
let now = Date.now()
for (let round = 0; ; round++) {
  if (round === 1) process.stdout.write(`${todo.pk}\n`)
  const ttlMs = round % 3 === 0 ? 1000 : undefined
  ids.push(await todo.addTask(`task ${round}`, { ttlMs }))
  if (round % 4 === 1) await todo.setStatus(ids[ids.length - 2]!, 'doing').catch(() => undefined)
  if (round % 25 === 0) {
    now += 2000
    await todo.store.gc(now)
  }
}
