/**
 * One kernel per database: a second kernel, in this process or in another one, on a folder
 * that a kernel holds fails at boot with KERNEL_DB_LOCKED (level's LEVEL_LOCKED as its
 * cause), not with an unrelated iterator error; once the first closes, the folder opens.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { Level } from 'level'
import { afterEach, beforeEach, expect, test } from 'vitest'
import { KernelError, SimpleKernel } from '../src/index.ts'
import { CounterKernel } from './helpers.ts'

const run = promisify(execFile)
const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..')

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'picostack-lock-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (err: unknown) => err,
  )

test('a second kernel in this process on the same folder: KERNEL_DB_LOCKED, LEVEL_LOCKED as cause', async () => {
  const path = join(dir, 'db')
  const first = new CounterKernel(path)
  await first.boot()
  await first.count(1)

  const second = new CounterKernel(path)
  const err = await failure(second.boot())
  expect(err).toBeInstanceOf(KernelError)
  expect(err).toMatchObject({ code: 'KERNEL_DB_LOCKED', cause: { code: 'LEVEL_LOCKED' } })
  await second.close() // a kernel that failed to boot still closes
  // The first kernel is untouched by the failed attempt.
  await first.count(2)
  expect(first.tally).toMatchObject({ blocks: 2, sum: 3 })
  await first.close()

  // Released on close: the folder opens again, with what the first kernel wrote.
  const third = new CounterKernel(path)
  await third.boot()
  expect(third.tally).toMatchObject({ blocks: 2, sum: 3 })
  await third.close()
})

test('a second process on a folder this process holds: KERNEL_DB_LOCKED there', async () => {
  const path = join(dir, 'db')
  const holder = new SimpleKernel(path)
  await holder.boot()
  // Another Node process boots a kernel on the same folder and prints what boot() threw.
  const script = `
    const { SimpleKernel } = await import('./src/index.ts')
    const kernel = new SimpleKernel(process.argv[1])
    const outcome = await kernel.boot().then(() => 'booted', (err) => err.code + ' ' + err.cause?.code)
    await kernel.close()
    console.log(outcome)
  `
  const args = ['--import', 'tsx', '--conditions=@picostack/source', '--input-type=module']
  const { stdout } = await run(process.execPath, [...args, '-e', script, path], {
    cwd: PACKAGE_DIR,
  })
  expect(stdout.trim()).toBe('KERNEL_DB_LOCKED LEVEL_LOCKED')
  await holder.close()

  const { stdout: after } = await run(process.execPath, [...args, '-e', script, path], {
    cwd: PACKAGE_DIR,
  })
  expect(after.trim()).toBe('booted')
})

test('a level database the app opened itself is held the same way', async () => {
  const path = join(dir, 'db')
  const holder = new Level<Uint8Array, Uint8Array>(path)
  await holder.open()
  const kernel = new SimpleKernel(new Level<Uint8Array, Uint8Array>(path))
  expect(await failure(kernel.boot())).toMatchObject({
    code: 'KERNEL_DB_LOCKED',
    cause: { code: 'LEVEL_LOCKED' },
  })
  await kernel.close()
  await holder.close()
})
