import { useKernel, useOnline, usePeers, useQuery } from '@picostack/react'
import { type FormEvent, useEffect, useRef, useState } from 'react'
import type { Task, TodoKernel } from 'todo'

/** Tasks per page: what the list reads at a time. */
export const PAGE_SIZE = 50

/** The page: who we are, who is connected, the tasks a page at a time, and a form. */
export function App({ relayUrl }: { relayUrl: string }) {
  const kernel = useKernel<TodoKernel>()
  const peers = usePeers()
  const online = useOnline()
  const [error, setError] = useState<string>()
  const fail = (err: unknown) => setError(err instanceof Error ? err.message : String(err))
  return (
    <main>
      <header>
        <h1>to-do</h1>
        <span id="pk" data-pk={kernel.pk}>
          {kernel.pk.slice(0, 8)}…
        </span>
        <span id="status" data-status={online ? 'online' : 'offline'} data-peers={peers.length}>
          {online ? `online, ${peers.length} peer${peers.length === 1 ? '' : 's'}` : 'offline'}
        </span>
        <span id="relay">{relayUrl}</span>
      </header>
      <AddTask onError={fail} />
      {error && <p id="error">{error}</p>}
      <TaskList onError={fail} />
    </main>
  )
}

function AddTask({ onError }: { onError: (err: unknown) => void }) {
  const kernel = useKernel<TodoKernel>()
  const [title, setTitle] = useState('')
  const submit = (event: FormEvent) => {
    event.preventDefault()
    const trimmed = title.trim()
    if (!trimmed) return
    setTitle('')
    kernel.addTask(trimmed).catch(onError)
  }
  return (
    <form id="add" onSubmit={submit}>
      <input
        id="title"
        value={title}
        onChange={(e) => setTitle(e.target.value)}
        placeholder="a new task"
      />
      <button type="submit">add</button>
    </form>
  )
}

/**
 * The tasks, oldest first, one page read at a time: the next page is read when the end of
 * the list scrolls into view (or on "more"); changes update the tasks shown in place.
 */
function TaskList({ onError }: { onError: (err: unknown) => void }) {
  const kernel = useKernel<TodoKernel>()
  const { items, loading, done, error, more } = useQuery(kernel.tasks, {
    index: 'created',
    limit: PAGE_SIZE,
  })
  const end = useRef<HTMLLIElement>(null)
  useEffect(() => {
    const sentinel = end.current
    if (!sentinel || done) return
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) more().catch(onError)
    })
    observer.observe(sentinel)
    return () => observer.disconnect()
  }, [done, more, onError])
  return (
    <>
      {error && <p id="query-error">{error.message}</p>}
      <ul id="tasks" data-rendered={items.length} data-done={done}>
        {items.map(({ id, value }) => (
          <TaskItem key={id} task={value} onError={onError} />
        ))}
        {!done && (
          <li ref={end} id="more">
            <button type="button" disabled={loading} onClick={() => more().catch(onError)}>
              {loading ? 'loading…' : 'more'}
            </button>
          </li>
        )}
      </ul>
      {done && items.length === 0 && <p id="empty">no tasks yet</p>}
    </>
  )
}

function TaskItem({ task, onError }: { task: Task; onError: (err: unknown) => void }) {
  const kernel = useKernel<TodoKernel>()
  const mayChange = task.owner === kernel.pk || task.assignee === kernel.pk
  return (
    <li data-task-id={task.id} data-title={task.title} data-status={task.status}>
      <input
        type="checkbox"
        aria-label={`done: ${task.title}`}
        checked={task.status === 'done'}
        disabled={!mayChange}
        onChange={(e) =>
          kernel.setStatus(task.id, e.target.checked ? 'done' : 'todo').catch(onError)
        }
      />
      <span className="title">{task.title}</span>
      <span className="meta">
        {task.status} · by {task.owner === kernel.pk ? 'you' : task.owner.slice(0, 8)}
      </span>
    </li>
  )
}
