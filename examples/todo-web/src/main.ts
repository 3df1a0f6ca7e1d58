/**
 * The to-do web page: the same TodoKernel as the CLI, booted in the tab over IndexedDB,
 * synced through a relay. `?relay=ws://host:port/` picks the relay (default: port 8080
 * of the page's host, or VITE_RELAY_URL at build time); `?db=name` the IndexedDB name.
 */
import { type Task, TodoKernel, taskExpiresAt } from 'todo'
import { browserSignal, showLinks } from './direct-links.ts'
import { type ConnectionStatus, connectToRelay } from './relay-connection.ts'
import './style.css'

const params = new URLSearchParams(location.search)
const relayUrl =
  params.get('relay') ??
  (import.meta.env.VITE_RELAY_URL as string | undefined) ??
  `ws://${location.hostname}:8080/`
const dbName = params.get('db') ?? 'picostack-todo'

/** The element with `id`, typed. */
function $<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id)
  if (!element) throw new Error(`#${id} missing from index.html`)
  return element as T
}

const statusLabel: Record<ConnectionStatus, string> = {
  online: 'online',
  connecting: 'connecting…',
  offline: 'offline, retrying',
}

function showStatus(status: ConnectionStatus): void {
  const element = $('status')
  element.dataset.status = status
  element.textContent = statusLabel[status]
}

function showError(err: unknown): void {
  const element = $('error')
  element.hidden = false
  element.textContent = err instanceof Error ? err.message : String(err)
}

const short = (key: string) => key.slice(0, 8)

function timeLeft(task: Task, now: number): string {
  const minutes = Math.max(0, Math.round((taskExpiresAt(task) - now) / 60_000))
  return minutes >= 120 ? `${Math.round(minutes / 60)} h left` : `${minutes} min left`
}

function renderTask(kernel: TodoKernel, task: Task, now: number): HTMLLIElement {
  const item = document.createElement('li')
  item.dataset.taskId = task.id
  item.dataset.title = task.title
  item.dataset.status = task.status
  const mayChange = task.owner === kernel.pk || task.assignee === kernel.pk
  const box = document.createElement('input')
  box.type = 'checkbox'
  box.checked = task.status === 'done'
  box.disabled = !mayChange
  box.title = mayChange ? 'done' : 'only its owner or assignee may change it'
  box.setAttribute('aria-label', `done: ${task.title}`)
  box.addEventListener('change', () => {
    box.disabled = true
    kernel.setStatus(task.id, box.checked ? 'done' : 'todo').catch(showError)
  })
  const title = document.createElement('span')
  title.className = 'title'
  title.textContent = task.title
  const meta = document.createElement('span')
  meta.className = 'meta'
  const by = task.owner === kernel.pk ? 'you' : short(task.owner)
  meta.textContent = `${task.status} · by ${by} · ${timeLeft(task, now)}`
  item.append(box, title, meta)
  return item
}

/** Tasks the page shows: the first page, oldest first. */
const FIRST_PAGE = 100

async function start(): Promise<void> {
  const kernel = new TodoKernel(dbName, { signal: browserSignal() })
  await kernel.boot()
  $('pk').textContent = `${short(kernel.pk)}…`
  $('pk').dataset.pk = kernel.pk
  $('relay').textContent = relayUrl

  const list = $<HTMLUListElement>('tasks')
  // The first page of tasks (oldest first), read from IndexedDB, drawn again after changes
  // (one read however many changes arrive together).
  let drawing: Promise<void> | undefined
  const draw = () => {
    drawing ??= Promise.resolve().then(async () => {
      drawing = undefined
      const { items } = await kernel.listPage({ limit: FIRST_PAGE })
      const now = Date.now()
      list.replaceChildren(...items.map(({ value }) => renderTask(kernel, value, now)))
      $('empty').hidden = items.length > 0
    })
    drawing.catch(showError)
  }
  kernel.tasks.onChange(draw)
  draw()

  const form = $<HTMLFormElement>('add')
  const input = $<HTMLInputElement>('title')
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    const title = input.value.trim()
    if (!title) return
    input.value = ''
    kernel.addTask(title).catch(showError)
  })

  connectToRelay(kernel, relayUrl, showStatus)
  showLinks(kernel, $<HTMLUListElement>('links'))
  document.body.dataset.ready = 'true'
}

start().catch(showError)
