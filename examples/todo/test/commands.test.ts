import { afterEach, describe, expect, it } from 'vitest'
import { formatTask, LIST_PAGE, parseDuration, runCommand } from '../src/commands.ts'
import { TodoKernel } from '../src/kernel.ts'
import { parseHostPort } from '../src/serve.ts'

const kernels: TodoKernel[] = []
afterEach(async () => {
  for (const k of kernels.splice(0)) await k.close()
})
async function kernel() {
  const k = new TodoKernel()
  await k.boot()
  kernels.push(k)
  return k
}
const codeOf = (fn: () => unknown) => {
  try {
    fn()
  } catch (err) {
    return (err as { code?: string }).code
  }
}

describe('commands', () => {
  it('parses durations and host:port, refusing anything else', () => {
    expect(['500', '500ms', '90s', '15m', '2h', '7d'].map(parseDuration)).toEqual([
      500, 500, 90_000, 900_000, 7_200_000, 604_800_000,
    ])
    for (const bad of ['', '1.5h', '-3s', '2w', 'soon']) {
      expect(codeOf(() => parseDuration(bad))).toBe('TODO_INVALID_INPUT')
    }
    expect(parseHostPort('127.0.0.1:49737')).toEqual({ host: '127.0.0.1', port: 49737 })
    expect(parseHostPort('node1.example:1')).toEqual({ host: 'node1.example', port: 1 })
    for (const bad of ['127.0.0.1', ':80', 'h:0', 'h:65536', 'h:x']) {
      expect(codeOf(() => parseHostPort(bad))).toBe('TODO_INVALID_INPUT')
    }
  })

  it('runs add (with --ttl anywhere), list, start, done, reopen, assign, whoami, peers', async () => {
    const k = await kernel()
    const added = await runCommand(k, ['add', 'buy', '--ttl', '2h', 'milk'])
    expect(added.text).toBe(`added ${added.id!.slice(0, 8)}`)
    const [task] = (await runCommand(k, ['list'])).tasks!
    expect(task).toMatchObject({ title: 'buy milk', ttlMs: 7_200_000, status: 'todo' })
    const prefix = added.id!.slice(0, 10)
    expect((await runCommand(k, ['start', prefix])).text).toBe(`${added.id!.slice(0, 8)} is doing`)
    expect((await runCommand(k, ['done', prefix])).text).toBe(`${added.id!.slice(0, 8)} is done`)
    expect((await runCommand(k, ['reopen', prefix])).text).toBe(`${added.id!.slice(0, 8)} is todo`)
    const other = 'ab'.repeat(32)
    await runCommand(k, ['assign', prefix, other])
    expect(k.list()[0]?.assignee).toBe(other)
    await runCommand(k, ['assign', prefix, 'none'])
    expect(k.list()[0]?.assignee).toBeNull()
    expect((await runCommand(k, ['whoami'])).text).toBe(k.pk)
    expect(await runCommand(k, ['peers'])).toEqual({ peers: 0, text: '0 peers' })
    expect(formatTask(k.list()[0]!, k.list()[0]!.updated)).toBe(
      `${added.id!.slice(0, 8)}  todo   buy milk  (120 min left)`,
    )
  })

  it('refuses unknown commands and missing arguments with TODO_INVALID_INPUT', async () => {
    const k = await kernel()
    for (const args of [[], ['fly'], ['done'], ['assign', 'x'], ['add', 'x', '--ttl']]) {
      await expect(runCommand(k, args)).rejects.toMatchObject({ code: 'TODO_INVALID_INPUT' })
    }
    expect((await runCommand(k, ['list'])).text).toBe('no tasks')
    for (const bad of ['0', '-1', '1.5', 'all']) {
      await expect(runCommand(k, ['list', '--limit', bad])).rejects.toMatchObject({
        code: 'TODO_INVALID_INPUT',
      })
    }
  })

  it('list reads the tasks page by page, oldest first, and stops at --limit', async () => {
    const k = await kernel()
    const ids: string[] = []
    for (let i = 0; i < LIST_PAGE + 30; i++) ids.push(await k.addTask(`task ${i}`))
    expect(new Set(ids).size).toBe(LIST_PAGE + 30)
    const all = await runCommand(k, ['list'])
    expect(all.tasks!.map((t) => t.id)).toEqual(k.list().map((t) => t.id))
    const some = await runCommand(k, ['list', '--limit', String(LIST_PAGE + 5)])
    expect(some.tasks!.map((t) => t.title)).toEqual(
      all.tasks!.slice(0, LIST_PAGE + 5).map((t) => t.title),
    )
    expect(some.text.split('\n').at(-1)).toBe(`... more: list --limit ${2 * LIST_PAGE + 5}`)
    const newest = await k.listPage({ limit: 2, reverse: true })
    expect(newest.items.map((item) => item.id)).toEqual(
      k
        .list()
        .slice(-2)
        .reverse()
        .map((t) => t.id),
    )
    expect(await k.tasks.count()).toBe(LIST_PAGE + 30)
  })

  it('works with tasks on disk only (snapshot: false): list pages, changes by id prefix', async () => {
    const k = new TodoKernel(undefined, { snapshot: false })
    await k.boot()
    kernels.push(k)
    const a = await k.addTask('one')
    await k.addTask('two')
    expect((await runCommand(k, ['list'])).tasks!.map((t) => t.title).sort()).toEqual([
      'one',
      'two',
    ])
    await runCommand(k, ['done', a.slice(0, 12)])
    expect((await k.tasks.get(a))?.status).toBe('done')
    await expect(runCommand(k, ['done', 'zz'])).rejects.toMatchObject({
      code: 'TODO_UNKNOWN_TASK',
    })
    expect(codeOf(() => k.list())).toBe('STORE_INVALID_SLICE')
  })
})
