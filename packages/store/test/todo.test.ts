import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { afterEach, describe, expect, it } from 'vitest'
import { type ComputeContext, Memory, Store, type StoreError } from '../src/index.ts'
import { Author, FakeClock } from './helpers.ts'

interface Task {
  title: string
  owner: string
  status: string
}

/** Tasks: created by anyone, keyed by the creating block; only the owner updates status. */
class Tasks extends Memory<Task | undefined> {
  override idOf({ payload }: { payload: { id?: string } }) {
    return payload.id ?? 'new'
  }
  compute(task: Task | undefined, ctx: ComputeContext<Task | undefined>) {
    const { payload, AUTHOR, reject } = ctx
    if (payload.op === 'create') {
      if (task) return reject('TaskExists')
      if (ctx.lookup(`title:${payload.title}`)) return reject('DuplicateTitle')
      ctx.index(`title:${payload.title}`)
      return { title: payload.title, owner: AUTHOR, status: 'todo' }
    }
    if (!task) return reject('NoSuchTask')
    if (task.owner !== AUTHOR) return reject('NotOwner')
    return { ...task, status: payload.status }
  }
}

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function open(dir: string, clock: FakeClock): { store: Store; tasks: Tasks } {
  const store = new Store(new ClassicLevel(dir), { clock })
  const tasks = store.register('tasks', Tasks)
  return { store, tasks }
}

describe('to-do collection', () => {
  it('two authors; a non-owner update is rejected; state survives reopening classic-level', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'picostack-store-'))
    dirs.push(dir)
    const clock = new FakeClock()
    let { store, tasks } = open(dir, clock)
    await store.load()
    const alice = new Author()
    const bob = new Author()

    await store.dispatch(alice.append('tasks', { op: 'create', id: 'a1', title: 'milk' }, 1), {
      loud: true,
    })
    await store.dispatch(bob.append('tasks', { op: 'create', id: 'b1', title: 'bread' }, 2), {
      loud: true,
    })
    await store.dispatch(alice.append('tasks', { op: 'status', id: 'a1', status: 'done' }, 3), {
      loud: true,
    })
    const intrusion = bob.append('tasks', { op: 'status', id: 'a1', status: 'lost' }, 4)
    const err = (await store.dispatch(intrusion, { loud: true }).catch((e) => e)) as StoreError
    expect(err.code).toBe('STORE_REJECTED')
    expect(err.reason).toBe('NotOwner')
    bob.feed.truncate(-1) // the refused block never existed for anyone
    await store.dispatch(bob.append('tasks', { op: 'status', id: 'b1', status: 'doing' }, 5))
    const unknown = alice.append('tasks', { op: 'status', id: 'zz', status: 'x' }, 6)
    expect(
      ((await store.dispatch(unknown, { loud: true }).catch((e) => e)) as StoreError).reason,
    ).toBe('NoSuchTask')

    const expected = {
      a1: { title: 'milk', owner: alice.pk, status: 'done' },
      b1: { title: 'bread', owner: bob.pk, status: 'doing' },
    }
    expect({ ...tasks.state }).toEqual(expected)
    expect(tasks.readState('a1')).toEqual(expected.a1)
    expect(tasks.hasState('zz')).toBe(false)
    await store.close()

    ;({ store, tasks } = open(dir, clock))
    await store.load()
    expect({ ...tasks.state }).toEqual(expected)
    expect(store.state.tasks).toEqual(expected)
    // the consensus rules and the secondary index work after the restart too
    await store.dispatch(bob.append('tasks', { op: 'status', id: 'b1', status: 'done' }, 7))
    expect(tasks.readState('b1')?.status).toBe('done')
    const again = bob.append('tasks', { op: 'status', id: 'a1', status: 'x' }, 8)
    expect(
      ((await store.dispatch(again, { loud: true }).catch((e) => e)) as StoreError).reason,
    ).toBe('NotOwner')
    bob.feed.truncate(-1)
    const dup = bob.append('tasks', { op: 'create', id: 'b2', title: 'milk' }, 9)
    expect(((await store.dispatch(dup, { loud: true }).catch((e) => e)) as StoreError).reason).toBe(
      'DuplicateTitle',
    )
    await store.close()
  })
})
