import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { formatTask, LIST_PAGE, parseDuration, runCommand } from '../src/commands.ts'
import { TodoKernel } from '../src/kernel.ts'
import { parseHostPort } from '../src/serve.ts'
import { kernelFactory } from './helpers.ts'

const kernel = kernelFactory()
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

  it('works with tasks on disk only (the default): list pages, changes by id prefix', async () => {
    const k = await kernel({ snapshot: false })
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

  it('a restarted CLI kernel (default options) keeps no task in memory and reads the first page from disk', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'todo-paged-'))
    try {
      const first = new TodoKernel(dir)
      await first.boot()
      const ids: string[] = []
      for (let i = 0; i < LIST_PAGE + 20; i++) {
        ids.push(await first.addTask(`task ${i}`))
        // One task per millisecond: tasks of the same millisecond list by id, not by creation.
        for (const at = Date.now(); Date.now() === at; ) await new Promise((r) => setTimeout(r, 1))
      }
      await first.close()

      const again = new TodoKernel(dir)
      await again.boot()
      try {
        // No snapshot: boot() read no task (the store reads objects of such a collection
        // only when asked), and nothing can read the whole list synchronously.
        expect(codeOf(() => again.tasks.state)).toBe('STORE_INVALID_SLICE')
        expect(codeOf(() => again.list())).toBe('STORE_INVALID_SLICE')
        expect(await again.tasks.count()).toBe(LIST_PAGE + 20)
        const page = await again.listPage({ limit: 10 })
        expect(page.items.map((item) => item.id)).toEqual(ids.slice(0, 10))
        expect(page.next).toBeDefined()
        const list = await runCommand(again, ['list', '--limit', '5'])
        expect(list.tasks!.map((t) => t.title)).toEqual([
          'task 0',
          'task 1',
          'task 2',
          'task 3',
          'task 4',
        ])
        for (const command of ['start', 'done', 'reopen'] as const) {
          await runCommand(again, [command, ids[7]!.slice(0, 10)])
        }
        await runCommand(again, ['delete', ids[8]!.slice(0, 10)])
        expect((await again.tasks.get(ids[7]!))?.status).toBe('todo')
        expect(await again.tasks.get(ids[8]!)).toBeUndefined()
        expect(await again.tasks.count()).toBe(LIST_PAGE + 19)
      } finally {
        await again.close()
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
