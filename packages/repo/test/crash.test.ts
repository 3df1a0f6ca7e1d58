/**
 * Crash safety: a child process writing thousands of blocks into classic-level is killed
 * with SIGKILL at random moments; after each kill the database reopens consistent (every
 * tag points at a stored block, every chain walks back to its genesis or first kept block),
 * and the next child continues on the same database.
 */
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ClassicLevel } from 'classic-level'
import { build } from 'esbuild'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { Repo } from '../src/index.ts'
import { integrityProblems } from './integrity.ts'

const packageDir = fileURLToPath(new URL('..', import.meta.url))
const cacheDir = join(packageDir, 'node_modules', '.cache')
const script = join(cacheDir, 'crash-writer.mjs')
const root = mkdtempSync(join(tmpdir(), 'picostack-repo-crash-'))
const KILLS = 6

beforeAll(async () => {
  mkdirSync(cacheDir, { recursive: true })
  // Bundled once so the child starts fast on plain node; classic-level stays native.
  await build({
    entryPoints: [join(packageDir, 'test', 'crash-writer.ts')],
    outfile: script,
    bundle: true,
    platform: 'node',
    format: 'esm',
    external: ['classic-level'],
    conditions: ['@picostack/source'],
    logLevel: 'error',
  })
})
afterAll(() => rmSync(root, { recursive: true, force: true }))

/** Runs the writer on `dir` until it has written for `delayMs`, then SIGKILLs it. */
function runAndKill(dir: string, seed: number, delayMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, dir, String(seed)], {
      cwd: packageDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.stdout.once('data', () => setTimeout(() => child.kill('SIGKILL'), delayMs))
    child.once('error', reject)
    child.once('exit', (_code, signal) => {
      if (signal === 'SIGKILL') resolve()
      else reject(new Error(`writer exited by itself: ${stderr}`))
    })
  })
}

it(`stays consistent across ${KILLS} SIGKILLs at random moments`, async () => {
  const dir = join(root, 'db')
  let blocks = 0
  for (let kill = 0; kill < KILLS; kill++) {
    await runAndKill(dir, 1000 + kill, 100 + Math.floor(Math.random() * 900))
    const db = new ClassicLevel(dir)
    expect(await integrityProblems(db)).toEqual([])
    const repo = new Repo(db)
    const feeds = await repo.listFeeds()
    for (const summary of feeds) {
      const feed = await repo.resolveFeed(summary.headId)
      expect(feed!.length).toBe(summary.length)
      expect(feed!.first!.sig).toEqual(summary.firstId)
    }
    blocks = feeds.reduce((n, s) => n + s.length, 0)
    await repo.close()
  }
  expect(blocks).toBeGreaterThan(1000)
}, 60_000)
