/**
 * Crash safety of the to-do app's state on disk: a writer process (crash-writer.ts) is
 * killed with SIGKILL at random moments while it writes tasks, changes them and forgets
 * expired ones; after each kill the kernel boots on the folder with the same identity,
 * and no task is half there: every task's chain is held and every held chain is a task,
 * the count and both orders list the same tasks.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { fromHex, type QueryOptions, toHex } from '@picostack/kernel'
import { afterAll, expect, it } from 'vitest'
import { type Task, TodoKernel } from '../src/kernel.ts'

const appDir = fileURLToPath(new URL('..', import.meta.url))
const root = mkdtempSync(join(tmpdir(), 'todo-crash-'))
const KILLS = 5
afterAll(() => rmSync(root, { recursive: true, force: true }))

/** Runs the writer on `dir`, SIGKILLs it `delayMs` after it starts writing; its public key. */
function runAndKill(dir: string, delayMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const args = ['--import', 'tsx', '--conditions=@picostack/source', 'test/crash-writer.ts', dir]
    const child = spawn(process.execPath, args, { cwd: appDir, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.stdout.on('data', (chunk) => {
      if (!stdout) setTimeout(() => child.kill('SIGKILL'), delayMs)
      stdout += chunk
    })
    child.once('error', reject)
    child.once('exit', (_code, signal) => {
      if (signal === 'SIGKILL') resolve(stdout.trim())
      else reject(new Error(`writer exited by itself: ${stderr}`))
    })
  })
}

async function all(todo: TodoKernel, q: QueryOptions = {}): Promise<Task[]> {
  const out: Task[] = []
  for (let next: QueryOptions | undefined = { ...q, limit: 500 }; next; ) {
    const page = await todo.tasks.query(next)
    out.push(...page.items.map((item) => item.value))
    next = page.next
  }
  return out
}

it(`boots whole after ${KILLS} SIGKILLs during batched writes`, async () => {
  const dir = join(root, 'data')
  let identity: string | undefined
  let seen = 0
  for (let kill = 0; kill < KILLS; kill++) {
    const pk = await runAndKill(dir, 300 + Math.floor(Math.random() * 700))
    identity ??= pk
    expect(pk).toBe(identity)
    // Time stands still while we look (no expiry timer fires between the reads below).
    const at = Date.now()
    const clock = { now: () => at, setTimeout: () => 0, clearTimeout: () => undefined }
    const todo = new TodoKernel(dir, { snapshot: false, clock })
    await todo.boot()
    expect(todo.pk).toBe(identity)
    const byId = await all(todo)
    const byCreated = await all(todo, { index: 'created' })
    expect(byCreated.map((t) => t.id).sort()).toEqual(byId.map((t) => t.id))
    expect(await todo.tasks.count()).toBe(byId.length)
    const chains = (await todo.repo.listFeeds()).map((c) => toHex(c.chainId)).sort()
    expect(chains).toEqual(byId.map((t) => t.id))
    for (const task of byId) {
      expect((await todo.tasks.get(task.id))?.id).toBe(task.id)
      const chain = await todo.repo.summary(fromHex(task.id))
      expect(chain?.length).toBeGreaterThan(0)
    }
    seen = Math.max(seen, byId.length)
    await todo.close()
  }
  expect(seen).toBeGreaterThan(10)
}, 120_000)
