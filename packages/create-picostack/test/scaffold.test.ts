/**
 * End to end, as a user runs it: `create-picostack my-app` in a temp dir, installed from
 * packed tarballs of this workspace (`--workspace`; third-party packages from the npm
 * registry or npm's cache). The to-do app type-checks, passes its own tests, builds and
 * previews its web page, and its testnet script carries two `serve` peers; the react
 * template type-checks and builds its React page; the minimal template (one kernel, one
 * test) type-checks and passes its test.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify, stripVTControlCharacters } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PACKAGE_DIR } from '../src/template.ts'

const exec = promisify(execFile)
const REPO_ROOT = join(PACKAGE_DIR, '..', '..')
const MINUTE_MS = 60_000

/** Runs a command; fails with its output when it exits non-zero. */
async function sh(
  cwd: string,
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<string> {
  try {
    const options = { cwd, maxBuffer: 64 << 20, env: { ...process.env, ...env } }
    const { stdout } = await exec(command, args, options)
    return stdout
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string; stderr?: string }
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout}\n${stderr}`)
  }
}

/** A long-running `npm run ...` in its own process group, with what it printed so far. */
class Background {
  readonly child: ChildProcess
  output = ''

  constructor(cwd: string, args: string[]) {
    this.child = spawn('npm', args, { cwd, detached: true, stdio: ['pipe', 'pipe', 'pipe'] })
    const keep = (chunk: Buffer) => {
      this.output += stripVTControlCharacters(chunk.toString())
    }
    this.child.stdout!.on('data', keep)
    this.child.stderr!.on('data', keep)
  }

  /** Resolves with the first match of `pattern` in the output; fails after `timeoutMs`. */
  async waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
    const start = Date.now()
    for (;;) {
      const match = pattern.exec(this.output)
      if (match) return match
      if (this.exited || Date.now() - start > timeoutMs) {
        throw new Error(
          `no ${pattern} in the output of npm ${this.child.spawnargs}:\n${this.output}`,
        )
      }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  /** Types a line into its stdin. */
  type(line: string): void {
    this.child.stdin!.write(`${line}\n`)
  }

  /** It has exited (with a code, or on a signal). */
  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null
  }

  /** SIGTERM to the whole group (npm, the shell, tsx, node); resolves on exit. */
  stop(): Promise<unknown> {
    if (this.exited) return Promise.resolve()
    const exited = new Promise((resolve) => this.child.once('exit', resolve))
    try {
      process.kill(-this.child.pid!, 'SIGTERM')
    } catch {
      // Already gone.
    }
    return exited
  }
}

/** A TCP port that was free a moment ago, on 127.0.0.1. */
async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** The workspace packages `names` need, with the ones those need (what --workspace packs). */
async function workspaceClosure(names: string[]): Promise<Set<string>> {
  const deps = new Map<string, string[]>()
  for (const dir of await readdir(join(REPO_ROOT, 'packages'))) {
    const json = await readFile(join(REPO_ROOT, 'packages', dir, 'package.json'), 'utf8').catch(
      () => undefined,
    )
    if (!json) continue
    const pkg = JSON.parse(json)
    const all: Record<string, string> = pkg.dependencies ?? {}
    if (!pkg.private) {
      deps.set(
        pkg.name,
        Object.keys(all).filter((dep) => all[dep]!.startsWith('workspace:')),
      )
    }
  }
  const closure = new Set<string>()
  const visit = (name: string) => {
    if (!deps.has(name) || closure.has(name)) return
    closure.add(name)
    deps.get(name)!.forEach(visit)
  }
  names.forEach(visit)
  return closure
}

const install = (app: string) =>
  sh(app, 'npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'])

describe('create-picostack, then npm install and the app scripts', () => {
  let tmp: string
  const running: Background[] = []
  const background = (cwd: string, ...args: string[]) => {
    const process = new Background(cwd, args)
    running.push(process)
    return process
  }

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'create-picostack-app-'))
    // Every public package's dist (packed next) and this package's bin and templates.
    await sh(REPO_ROOT, 'pnpm', ['-r', '--filter', './packages/*', 'build'])
  }, 10 * MINUTE_MS)
  afterAll(async () => {
    await Promise.all(running.map((process) => process.stop()))
    await rm(tmp, { recursive: true, force: true })
  }, MINUTE_MS)

  it(
    'the to-do template: tests, web page build and preview, testnet with two serve peers',
    async () => {
      const out = await sh(tmp, 'npm', [
        ...['exec', '-y', `--package=${PACKAGE_DIR}`, '--'],
        ...['create-picostack', 'my-app', '--workspace', REPO_ROOT],
      ])
      expect(out).toContain('Created my-app in')
      // The path to cd to is relative to where the user ran it.
      expect(out).toContain('\n  cd my-app\n  npm install\n')
      expect(out).toContain('npm run testnet')
      const app = join(tmp, 'my-app')
      const pkg = JSON.parse(await readFile(join(app, 'package.json'), 'utf8'))
      expect(pkg.name).toBe('my-app')
      expect(pkg.dependencies['@picostack/kernel']).toMatch(
        /^file:packs\/picostack-kernel-\d+\.\d+\.\d+.*\.tgz$/,
      )
      expect(pkg.devDependencies['@picostack/simulator']).toMatch(/^file:packs\//)
      // Packed: every workspace package the app names, with those they need; the ones it
      // gets indirectly are pinned to their packs by overrides.
      const direct = [...Object.keys(pkg.dependencies), ...Object.keys(pkg.devDependencies)]
      const packed = await workspaceClosure(direct)
      expect(packed.has('@picostack/feed')).toBe(true)
      expect((await readdir(join(app, 'packs'))).length).toBe(packed.size)
      expect(Object.keys(pkg.overrides).sort()).toEqual(
        [...packed].filter((name) => !direct.includes(name)).sort(),
      )
      // "Learn more" names the checkout's own guides.
      const readme = await readFile(join(app, 'README.md'), 'utf8')
      expect(readme).toContain(`\`${join(REPO_ROOT, 'docs')}/\``)

      await install(app)
      // The app runs on the packed builds, not on this repository's sources.
      const installed = await readdir(join(app, 'node_modules', '@picostack', 'kernel', 'dist'))
      expect(installed).toContain('index.js')
      await sh(app, 'npm', ['run', 'typecheck'])
      const tests = stripVTControlCharacters(await sh(app, 'npm', ['test']))
      expect(tests).toMatch(/Tests\s+\d+ passed/)
      expect(tests).not.toMatch(/failed/)

      // The web page bundles for browsers (its config fails on any Node built-in), and
      // `preview` serves the built page.
      await sh(app, 'npm', ['run', 'build:web'])
      expect(await readdir(join(app, 'web', 'dist'))).toContain('index.html')
      const port = await freePort()
      const preview = background(
        app,
        ...['run', 'preview', '--', '--host', '127.0.0.1', '--port', String(port), '--strictPort'],
      )
      await preview.waitFor(new RegExp(`127\\.0\\.0\\.1:${port}`), MINUTE_MS)
      const page = await fetch(`http://127.0.0.1:${port}/`)
      expect(page.status).toBe(200)
      expect(await page.text()).toContain('<title>picostack to-do</title>')
      await preview.stop()

      // `npm run testnet` prints its bootstrap; two `serve` peers on it sync a task.
      const testnet = background(app, 'run', 'testnet')
      const [, bootstrap] = await testnet.waitFor(/^bootstrap (127\.0\.0\.1:\d+)$/m)
      expect(testnet.output).toContain(
        `npm run todo -- serve --topic our-flat --bootstrap ${bootstrap}`,
      )
      const serve = (name: string) =>
        background(
          app,
          ...['run', 'todo', '--', 'serve', '--topic', 'scaffold', '--bootstrap', bootstrap!],
          ...['--data', join(tmp, name)],
        )
      const [alice, bob] = [serve('alice'), serve('bob')]
      await Promise.all([alice.waitFor(/peers: 1/), bob.waitFor(/peers: 1/)])
      alice.type('add hello from alice')
      await alice.waitFor(/^added [0-9a-f]{8}$/m)
      // bob lists until the task arrives (a list prints each task's title).
      const start = Date.now()
      while (!bob.output.includes('hello from alice') && Date.now() - start < 30_000) {
        bob.type('list')
        await new Promise((resolve) => setTimeout(resolve, 250))
      }
      expect(bob.output).toContain('hello from alice')
      await Promise.all([alice.stop(), bob.stop(), testnet.stop()])

      const again = await exec(
        'npm',
        ['exec', '-y', `--package=${PACKAGE_DIR}`, '--', 'create-picostack', 'my-app'],
        { cwd: tmp },
      ).catch((err: { code: number; stderr: string }) => err)
      expect(again).toMatchObject({
        code: 1,
        stderr: expect.stringMatching(/error CREATE_NOT_EMPTY: /),
      })
    },
    10 * MINUTE_MS,
  )

  it(
    'the react template: @picostack/react installed from its pack, type-checks, builds the React page',
    async () => {
      const out = await sh(tmp, 'npm', [
        ...['exec', '-y', `--package=${PACKAGE_DIR}`, '--'],
        ...['create-picostack', 'react-app', '--template', 'react', '--workspace', REPO_ROOT],
      ])
      expect(out).toContain('(template react, picostack from')
      const app = join(tmp, 'react-app')
      const pkg = JSON.parse(await readFile(join(app, 'package.json'), 'utf8'))
      expect(pkg.dependencies['@picostack/react']).toMatch(/^file:packs\/picostack-react-/)

      // Its kernel, CLI and tests are the to-do app's (run above); here: the page's JSX
      // and hooks type-check against the packed builds, and Vite bundles it.
      await install(app)
      await sh(app, 'npm', ['run', 'typecheck'])
      await sh(app, 'npm', ['run', 'build:web'])
      const built = await readdir(join(app, 'web', 'dist', 'assets'))
      expect(built.some((file) => file.endsWith('.js'))).toBe(true)
      const page = await readFile(join(app, 'web', 'dist', 'index.html'), 'utf8')
      expect(page).toContain('<title>picostack to-do (React)</title>')
      expect(page).toMatch(/<script type="module" crossorigin src="\/assets\/[^"]+\.js">/)
    },
    5 * MINUTE_MS,
  )

  it(
    'the minimal template: one kernel and one test, which type-check and pass',
    async () => {
      // Started from another folder (as `pnpm --filter create-picostack exec` does), with
      // npm's INIT_CWD naming the user's: the app and the path printed are relative to it.
      const cli = join(PACKAGE_DIR, 'dist', 'cli.js')
      const args = [cli, 'mini', '--template', 'minimal', '--workspace', REPO_ROOT]
      const out = await sh(PACKAGE_DIR, process.execPath, args, { INIT_CWD: tmp })
      const packs = (await workspaceClosure(['@picostack/kernel'])).size
      expect(out).toContain(`(template minimal, picostack from ${packs} local packs)`)
      expect(out).toContain('\n  cd mini\n  npm install\n  npm test')
      const app = join(tmp, 'mini')
      expect((await readdir(join(app, 'src'))).sort()).toEqual(['kernel.ts'])
      expect((await readdir(join(app, 'test'))).sort()).toEqual(['kernel.test.ts'])

      await install(app)
      await sh(app, 'npm', ['run', 'typecheck'])
      const tests = stripVTControlCharacters(await sh(app, 'npm', ['test']))
      expect(tests).toMatch(/Tests\s+3 passed/)
    },
    5 * MINUTE_MS,
  )
})
