/**
 * The to-do page in React: the TodoKernel boots in the tab (IndexedDB, or memory with
 * `?db=memory`), dials the relay (`?relay=ws://host:port/`, default port 8080 of the page's
 * host), and renders through @picostack/react. `?seed=N` adds N tasks first when the list
 * is empty (to try a large list).
 */
import { KernelProvider } from '@picostack/react'
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { TodoKernel } from 'todo'
import { App } from './App.tsx'
import { dialRelay } from './relay.ts'

const params = new URLSearchParams(location.search)
const relayUrl = params.get('relay') ?? `ws://${location.hostname}:8080/`
const dbName = params.get('db') ?? 'picostack-todo-react'
const seed = Number(params.get('seed') ?? 0)

async function start(): Promise<void> {
  // snapshot: false: the page reads tasks a page at a time from disk, never all of them.
  const kernel = new TodoKernel(dbName === 'memory' ? undefined : dbName, { snapshot: false })
  await kernel.boot()
  if (seed > 0 && (await kernel.tasks.count()) === 0) {
    // Each seeded task gets a millisecond of its own, so the list's order (by creation
    // time, ties by random id) is the seed order.
    let last = 0
    for (let i = 0; i < seed; i++) {
      while (Date.now() <= last) await Promise.resolve()
      await kernel.addTask(`seeded task ${i}`)
      last = Date.now() // not before the task's own date
    }
  }
  dialRelay(kernel, relayUrl)
  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <KernelProvider kernel={kernel}>
        <App relayUrl={relayUrl} />
      </KernelProvider>
    </StrictMode>,
  )
  document.body.dataset.ready = 'true'
}

start().catch((err: unknown) => {
  document.body.dataset.error = err instanceof Error ? err.message : String(err)
  document.body.textContent = `failed to start: ${document.body.dataset.error}`
})
