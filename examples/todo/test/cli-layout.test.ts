/**
 * A data folder written by another key layout (an older picostack): the CLI refuses it
 * with the repo's REPO_LAYOUT, says what to do, and changes nothing.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { root } from '../scripts/peer-process.ts'
import { TodoKernel } from '../src/kernel.ts'

const run = promisify(execFile)

/** The repo's layout key (namespace 0x06, `layout`: packages/repo README, "Key layout"). */
const LAYOUT_KEY = Uint8Array.of(0x06, ...new TextEncoder().encode('layout'))

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'todo-layout-'))
})
afterAll(() => rm(dir, { recursive: true, force: true }))

it('an older layout: exit 1, REPO_LAYOUT and a hint, the folder left as it was', async () => {
  const data = join(dir, 'old')
  const kernel = new TodoKernel(data)
  await kernel.boot()
  await kernel.addTask('written before the upgrade')
  // Layout 1 had the write counter but no layout key.
  await kernel.db.batch([{ type: 'del', key: LAYOUT_KEY }], { keyEncoding: 'view' })
  await kernel.close()

  const failed = await run(
    process.execPath,
    ['--import', 'tsx', '--conditions=@picostack/source', 'src/cli.ts', 'list', '--data', data],
    { cwd: root },
  ).then(
    () => undefined,
    (err: { code: number; stderr: string }) => err,
  )
  expect(failed?.code).toBe(1)
  expect(failed?.stderr).toMatch(/^error REPO_LAYOUT: /)
  expect(failed?.stderr).toContain('pass another --data')

  const again = new TodoKernel(data)
  await expect(again.boot()).rejects.toMatchObject({ code: 'REPO_LAYOUT' })
  await again.close()
})
