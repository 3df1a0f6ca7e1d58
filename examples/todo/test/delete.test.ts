import { describe, expect, it } from 'vitest'
import { runCommand } from '../src/commands.ts'
import { REJECT, type TodoKernel } from '../src/kernel.ts'
import { failure, kernelFactory } from './helpers.ts'
import { until } from './until.ts'

const kernel = kernelFactory()

const chainLength = async (k: TodoKernel, id: string) =>
  (await k.repo.summary(Buffer.from(id, 'hex')))?.length ?? 0

describe('deleting a task', () => {
  it('only its creator deletes it; every peer forgets it and a re-sent task stays gone', async () => {
    const [alice, bob] = [await kernel(), await kernel()]
    alice.spawnWire()(bob.spawnWire())
    const id = await alice.addTask('shared')
    await alice.assign(id, bob.pk)
    await until(() => bob.list()[0]?.assignee === bob.pk)
    const before = await bob.repo.loadFeed((await bob.repo.summary(Buffer.from(id, 'hex')))!.headId)

    // The assignee may change the task, not delete it.
    const refused = await failure(bob.deleteTask(id))
    expect(refused.code).toBe('STORE_REJECTED')
    expect(refused.reason).toBe(REJECT.notOwner)
    expect(bob.list()).toHaveLength(1)

    const result = await runCommand(alice, ['delete', id.slice(0, 8)])
    expect(result).toEqual({ id, text: `${id.slice(0, 8)} deleted` })
    expect(alice.list()).toEqual([])
    await until(() => bob.list().length === 0)
    expect(await bob.tasks.get(id)).toBeUndefined()
    // The create and assign blocks left the disk; the delete block (the tombstone) stays.
    await until(async () => (await chainLength(bob, id)) === 1)
    expect(await chainLength(alice, id)).toBe(1)

    // The task's old blocks sent again do not bring it back, and it cannot be changed.
    expect((await bob.store.apply(before!)).refusal?.code).toBe('STORE_EXPIRED')
    expect(bob.list()).toEqual([])
    expect((await failure(alice.complete(id))).code).toBe('TODO_UNKNOWN_TASK')
    expect((await failure(runCommand(alice, ['delete']))).code).toBe('TODO_INVALID_INPUT')
  })
})
