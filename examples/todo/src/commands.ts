/**
 * The to-do commands, run the same way from the command line (`todo add ...`), from a
 * serving peer's stdin, or from a parent process over IPC (the demo).
 */
import type { QueryOptions, QueryPage } from '@picostack/kernel'
import { TASK_STATUSES, type Task, type TaskStatus, TodoError, type TodoKernel } from './kernel.ts'

/** Tasks `list` reads per page. */
export const LIST_PAGE = 100

/** What a command did: text for a terminal, and data for a program. */
export interface CommandResult {
  text: string
  /** The task the command made or changed. */
  id?: string
  /** The live tasks (`list`). */
  tasks?: Task[]
  /** Peers connected now (`peers`). */
  peers?: number
}

/** How to use the commands (also printed by `todo --help`). */
export const COMMANDS_HELP = `commands:
  add <title...> [--ttl 30s|15m|2h|7d]   create a task (default time to live: 24 h)
  list [--limit N]                        live tasks, oldest first (read a page at a time)
  done <id>                               mark a task done (id or a unique prefix)
  start <id>                              mark a task doing
  reopen <id>                             mark a task todo
  assign <id> <public key|none>           let another peer change it too
  delete <id>                             delete a task you created (on every peer)
  whoami                                  this peer's public key
  peers                                   how many peers are connected now`

const UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/**
 * A duration such as `90s`, `15m`, `2h`, `7d`, `500ms` or plain milliseconds, in ms.
 * @throws TODO_INVALID_INPUT for anything else
 */
export function parseDuration(text: string): number {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(text.trim())
  if (!match) throw new TodoError('TODO_INVALID_INPUT', `not a duration: ${text}`)
  return Number(match[1]) * UNITS_MS[match[2] ?? 'ms']!
}

/** One line per task: short id, status, title, assignee, time left. */
export function formatTask(task: Task, now = Date.now()): string {
  const leftMin = Math.max(0, Math.round((task.updated + task.ttlMs - now) / 60_000))
  const assignee = task.assignee ? ` @${task.assignee.slice(0, 8)}` : ''
  return `${task.id.slice(0, 8)}  ${task.status.padEnd(5)}  ${task.title}${assignee}  (${leftMin} min left)`
}

/**
 * Runs one command on a booted kernel.
 * @param args - the command and its arguments, e.g. `['add', 'buy', 'milk', '--ttl', '2h']`
 * @throws TODO_INVALID_INPUT for an unknown command or missing argument; the kernel's errors
 */
export async function runCommand(
  kernel: TodoKernel,
  args: readonly string[],
): Promise<CommandResult> {
  const [command, ...rest] = args
  const needId = () => {
    const id = rest[0]
    if (!id) throw new TodoError('TODO_INVALID_INPUT', `${command} needs a task id`)
    return id
  }
  const changed = (id: string, status: TaskStatus) => ({
    id,
    text: `${id.slice(0, 8)} is ${status}`,
  })
  switch (command) {
    case 'add': {
      const ttlAt = rest.indexOf('--ttl')
      const ttlText = ttlAt >= 0 ? rest[ttlAt + 1] : undefined
      if (ttlAt >= 0 && ttlText === undefined) {
        throw new TodoError('TODO_INVALID_INPUT', '--ttl needs a duration')
      }
      const words = ttlAt >= 0 ? [...rest.slice(0, ttlAt), ...rest.slice(ttlAt + 2)] : rest
      const ttlMs = ttlText === undefined ? undefined : parseDuration(ttlText)
      const id = await kernel.addTask(words.join(' '), { ttlMs })
      return { id, text: `added ${id.slice(0, 8)}` }
    }
    case 'list': {
      // Page by page (LIST_PAGE tasks at a time), so a long list never loads all at once.
      const limitAt = rest.indexOf('--limit')
      const most = limitAt >= 0 ? Number(rest[limitAt + 1]) : Number.POSITIVE_INFINITY
      if (!(most > 0) || (limitAt >= 0 && !Number.isInteger(most))) {
        throw new TodoError('TODO_INVALID_INPUT', '--limit needs a positive whole number')
      }
      const tasks: Task[] = []
      let query: QueryOptions | undefined = { limit: Math.min(LIST_PAGE, most) }
      while (query && tasks.length < most) {
        const page: QueryPage<Task> = await kernel.listPage(query)
        tasks.push(...page.items.map((item) => item.value))
        query = page.next && { ...page.next, limit: Math.min(LIST_PAGE, most - tasks.length) }
      }
      const now = Date.now()
      const lines = tasks.map((task) => formatTask(task, now))
      if (query) lines.push(`... more: list --limit ${tasks.length + LIST_PAGE}`)
      return { tasks, text: tasks.length ? lines.join('\n') : 'no tasks' }
    }
    case 'done':
      return changed(await kernel.setStatus(needId(), 'done'), 'done')
    case 'start':
      return changed(await kernel.setStatus(needId(), 'doing'), 'doing')
    case 'reopen':
      return changed(await kernel.setStatus(needId(), 'todo'), 'todo')
    case 'assign': {
      const to = rest[1]
      if (!to) throw new TodoError('TODO_INVALID_INPUT', 'assign needs a public key or none')
      const id = await kernel.assign(needId(), to === 'none' ? null : to)
      return { id, text: `${id.slice(0, 8)} assigned to ${to}` }
    }
    case 'delete': {
      const id = await kernel.deleteTask(needId())
      return { id, text: `${id.slice(0, 8)} deleted` }
    }
    case 'whoami':
      return { text: kernel.pk }
    case 'peers': {
      const peers = kernel.peers.length
      return { peers, text: `${peers} peers` }
    }
    default:
      throw new TodoError(
        'TODO_INVALID_INPUT',
        `unknown command ${command ?? '(none)'}; one of add, list, done, start, reopen, assign, delete, whoami, peers (statuses: ${TASK_STATUSES.join(', ')})`,
      )
  }
}
