/**
 * What it must show, item 1: `create-picostack my-app` in a temp dir, installed from
 * packed tarballs of this workspace (`--workspace`; third-party packages from the npm
 * registry or npm's cache), type-checks, runs its own tests green and builds its web page.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify, stripVTControlCharacters } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PACKAGE_DIR } from '../src/template.ts'

const exec = promisify(execFile)
const REPO_ROOT = join(PACKAGE_DIR, '..', '..')
const MINUTE_MS = 60_000

/** Runs a command; fails with its output when it exits non-zero. */
async function sh(cwd: string, command: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await exec(command, args, { cwd, maxBuffer: 64 << 20 })
    return stdout
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string; stderr?: string }
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout}\n${stderr}`)
  }
}

describe('npm exec create-picostack my-app', () => {
  let tmp: string
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'create-picostack-app-'))
    // Every public package's dist (packed next) and this package's bin and template.
    await sh(REPO_ROOT, 'pnpm', ['-r', '--filter', './packages/*', 'build'])
  }, 3 * MINUTE_MS)
  afterAll(() => rm(tmp, { recursive: true, force: true }))

  it(
    'scaffolds an app that installs from packed tarballs and passes its own tests',
    async () => {
      const out = await sh(tmp, 'npm', [
        ...['exec', '-y', `--package=${PACKAGE_DIR}`, '--'],
        ...['create-picostack', 'my-app', '--workspace', REPO_ROOT],
      ])
      expect(out).toContain('Created my-app in')
      expect(out).toContain('npm install')
      const app = join(tmp, 'my-app')
      const pkg = JSON.parse(await readFile(join(app, 'package.json'), 'utf8'))
      expect(pkg.name).toBe('my-app')
      expect(pkg.dependencies.picostack).toMatch(/^file:packs\/picostack-\d+\.\d+\.\d+.*\.tgz$/)
      expect(Object.keys(pkg.overrides).sort()).toEqual([
        '@picostack/feed',
        '@picostack/net',
        '@picostack/repo',
        '@picostack/store',
      ])
      expect((await readdir(join(app, 'packs'))).length).toBe(7)

      await sh(app, 'npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'])
      // The app runs on the packed builds, not on this repository's sources.
      const installed = await readdir(join(app, 'node_modules', 'picostack', 'dist'))
      expect(installed).toContain('index.js')
      await sh(app, 'npm', ['run', 'typecheck'])
      const tests = stripVTControlCharacters(await sh(app, 'npm', ['test']))
      expect(tests).toMatch(/Tests\s+\d+ passed/)
      expect(tests).not.toMatch(/failed/)
      // The web page bundles for browsers (its config fails on any Node built-in).
      await sh(app, 'npm', ['run', 'build:web'])
      expect(await readdir(join(app, 'web', 'dist'))).toContain('index.html')

      const again = await exec(
        'npm',
        ['exec', '-y', `--package=${PACKAGE_DIR}`, '--', 'create-picostack', 'my-app'],
        {
          cwd: tmp,
        },
      ).catch((err: { code: number; stderr: string }) => err)
      expect(again).toMatchObject({
        code: 1,
        stderr: expect.stringMatching(/error CREATE_NOT_EMPTY: /),
      })
    },
    4 * MINUTE_MS,
  )
})
