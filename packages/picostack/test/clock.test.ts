import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { expect, test } from 'vitest'
import { main } from '../examples/clock.ts'

test('the README clock example: both observers see the tick', async () => {
  const lines: string[] = []
  const time = await main((line) => lines.push(line))
  expect(time).toBeGreaterThan(0)
  expect(lines.sort()).toEqual([`alice sees tick ${time}`, `bob sees tick ${time}`])
})

test('examples/clock.ts runs as a script and prints both ticks', async () => {
  const root = fileURLToPath(new URL('../../..', import.meta.url))
  const { stdout } = await promisify(execFile)(
    'npx',
    ['tsx', '--conditions=@picostack/source', 'packages/picostack/examples/clock.ts'],
    { cwd: root },
  )
  const lines = stdout.trim().split('\n').sort()
  expect(lines).toHaveLength(2)
  expect(lines[0]).toMatch(/^alice sees tick \d+$/)
  expect(lines[1]).toBe(lines[0]!.replace('alice', 'bob'))
})
