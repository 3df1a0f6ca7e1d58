import { Feed, SimpleKernel, signPair } from '@picostack/kernel'
import { describe, expect, it } from 'vitest'
import { DEFAULT_TASK_TTL_MS, REJECT, type Task, TodoKernel, taskExpiresAt } from '../src/kernel.ts'
import { failure, kernelFactory } from './helpers.ts'
import { until } from './until.ts'

const kernel = kernelFactory()

const titles = (k: TodoKernel) => k.list().map((t) => `${t.title}:${t.status}`)

describe('TodoKernel', () => {
  it('creates a task on its own chain with the default 24 h time to live', async () => {
    const alice = await kernel()
    const before = Date.now()
    const id = await alice.addTask('water the plants')
    const [task] = alice.list() as [Task]
    expect(task).toEqual({
      id,
      title: 'water the plants',
      status: 'todo',
      owner: alice.pk,
      assignee: null,
      created: task.created,
      updated: task.created,
      ttlMs: DEFAULT_TASK_TTL_MS,
    })
    expect(task.created).toBeGreaterThanOrEqual(before)
    expect(taskExpiresAt(task)).toBe(task.created + 86_400_000)
    expect(id).toMatch(/^[0-9a-f]{128}$/)
    // The task's id is its chain id: a chain of its own, not the kernel's main feed.
    const chain = await alice.repo.summary(Buffer.from(id, 'hex'))
    expect(chain?.length).toBe(1)
    expect(await alice.feed()).toBeUndefined()
  })

  it('lets the owner change status by id or unique prefix', async () => {
    const alice = await kernel()
    const id = await alice.addTask('a')
    await alice.setStatus(id.slice(0, 8), 'doing')
    expect(titles(alice)).toEqual(['a:doing'])
    await alice.complete(id)
    expect(titles(alice)).toEqual(['a:done'])
    const chain = await alice.repo.summary(Buffer.from(id, 'hex'))
    expect(chain?.length).toBe(3)
  })

  it('lets only the owner or the assignee change a task; others get the reason', async () => {
    const [alice, bob, carol] = [await kernel(), await kernel(), await kernel()]
    alice.spawnWire()(bob.spawnWire())
    bob.spawnWire()(carol.spawnWire())
    const id = await alice.addTask('shared')
    await until(() => carol.list().length === 1 && bob.list().length === 1)

    const refused = await failure(bob.complete(id))
    expect(refused.code).toBe('STORE_REJECTED')
    expect(refused.reason).toBe(REJECT.notAllowed)

    await alice.assign(id, bob.pk)
    await until(() => bob.list()[0]?.assignee === bob.pk)
    await bob.setStatus(id, 'doing')
    await until(() => alice.list()[0]?.status === 'doing' && carol.list()[0]?.status === 'doing')

    const carolRefused = await failure(carol.complete(id))
    expect(carolRefused.reason).toBe(REJECT.notAllowed)
    expect(carol.list()[0]?.status).toBe('doing')
    await alice.complete(id)
    await until(() => carol.list()[0]?.status === 'done' && bob.list()[0]?.status === 'done')
  })

  it('forgets an expired task from state and disk', async () => {
    const alice = await kernel()
    const id = await alice.addTask('soon gone', { ttlMs: 300 })
    const kept = await alice.addTask('kept')
    expect(alice.list()).toHaveLength(2)
    await until(() => alice.list().length === 1)
    expect(alice.list()[0]?.id).toBe(kept)
    await until(async () => (await alice.repo.summary(Buffer.from(id, 'hex'))) === undefined)
  })

  it('refuses bad input with typed errors', async () => {
    const alice = await kernel({ taskTtlMs: 1000 })
    expect((await failure(alice.addTask(''))).code).toBe('TODO_INVALID_INPUT')
    expect((await failure(alice.addTask('x'.repeat(201)))).code).toBe('TODO_INVALID_INPUT')
    expect((await failure(alice.addTask('x', { ttlMs: 0 }))).code).toBe('TODO_INVALID_INPUT')
    expect((await failure(alice.addTask('x', { ttlMs: 1.5 }))).code).toBe('TODO_INVALID_INPUT')
    expect((await failure(alice.complete('abc'))).code).toBe('TODO_UNKNOWN_TASK')
    expect((await failure(alice.complete(''))).code).toBe('TODO_UNKNOWN_TASK')
    const id = await alice.addTask('x')
    expect(alice.list()[0]?.ttlMs).toBe(1000)
    expect(() => alice.setStatus(id, 'later' as 'done')).toThrow(
      expect.objectContaining({ code: 'TODO_INVALID_INPUT' }),
    )
    expect(() => alice.assign(id, 'bob')).toThrow(
      expect.objectContaining({ code: 'TODO_INVALID_INPUT' }),
    )
    expect(() => new TodoKernel(undefined, { taskTtlMs: -1 })).toThrow(
      expect.objectContaining({ code: 'TODO_INVALID_INPUT' }),
    )
  })

  it('finds tasks by prefix and reports ambiguity', async () => {
    const alice = await kernel()
    const ids = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((t) => alice.addTask(t)))
    expect(await alice.resolveId(ids[0]!)).toBe(ids[0])
    expect(await alice.resolveId(ids[0]!.slice(0, 10).toUpperCase())).toBe(ids[0])
    expect((await failure(alice.resolveId(''))).code).toBe('TODO_UNKNOWN_TASK')
    expect((await failure(alice.resolveId('zz'))).code).toBe('TODO_UNKNOWN_TASK')
    // 5 ids over 16 first hex digits: some one-digit prefix may be shared, or not.
    const firsts = ids.map((id) => id[0]!)
    const shared = firsts.find((c, i) => firsts.indexOf(c) !== i)
    if (shared) {
      expect((await failure(alice.resolveId(shared))).code).toBe('TODO_AMBIGUOUS_ID')
    }
  })

  it('rejects crafted blocks that break the rules, from any peer', async () => {
    const alice = await kernel()
    const mallory = signPair()
    // Malformed creates on chains of their own, and an op that does not exist.
    for (const payload of [
      { op: 'create', title: '', ttlMs: 1000 },
      { op: 'create', title: 'x', ttlMs: 0 },
      { op: 'create', title: 'x', ttlMs: 40 * 86_400_000 },
      { op: 'delete' },
      { op: 'status', status: 'done' },
    ]) {
      const feed = new Feed()
      feed.append(SimpleKernel.encodeBlock('tasks', payload), mallory.sk)
      expect(await alice.dispatch(feed)).toBeUndefined()
    }
    expect(alice.list()).toEqual([])
  })

  it('refuses a create carried by a non-genesis block whose parent it does not hold', async () => {
    const alice = await kernel()
    const mallory = signPair()
    const feed = new Feed()
    const create = (title: string) =>
      SimpleKernel.encodeBlock('tasks', { op: 'create', title, ttlMs: 60_000 })
    feed.append(create('never sent'), mallory.sk) // alice never receives this genesis
    feed.append(create('forged'), mallory.sk)
    const forged = feed.slice(-1) // its psig names a block alice does not hold
    expect(forged.first!.genesis).toBe(false)
    // Sent as a partial chain under a claimed chain id (what a sync summary tells), the
    // block has no parentBlock, like a genesis, but it is not one.
    const claimed = { loud: true, chainId: feed.first!.sig, height: 2 }
    await expect(alice.store.dispatch(forged, claimed)).rejects.toMatchObject({
      code: 'STORE_REJECTED',
      reason: REJECT.notGenesis,
    })
    expect(alice.list()).toEqual([])
    // The genuine genesis of a chain still creates its task.
    expect(await alice.dispatch(feed.slice(0, 1))).toBeDefined()
    expect(titles(alice)).toEqual(['never sent:todo'])
  })
})
