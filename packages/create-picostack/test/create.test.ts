import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTemplate, TEMPLATE_SOURCES } from '../src/build-template.ts'
import { checkPackageName, createApp, TEMPLATE_NAME, tarballName } from '../src/index.ts'
import { PACKAGE_DIR } from '../src/template.ts'

const run = promisify(execFile)
const REPO_ROOT = join(PACKAGE_DIR, '..', '..')
const EXAMPLE = join(REPO_ROOT, 'examples', 'todo')

let tmp: string
let template: string
let files: string[]
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'create-picostack-'))
  template = join(tmp, 'template')
  files = await buildTemplate(REPO_ROOT, template)
})
afterAll(() => rm(tmp, { recursive: true, force: true }))

/** Runs the CLI from source; resolves with its exit code and output. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const out = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
      cwd: PACKAGE_DIR,
    })
    return { code: 0, ...out }
  } catch (err) {
    const { code, stdout, stderr } = err as { code: number; stdout: string; stderr: string }
    return { code, stdout, stderr }
  }
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => ({ code: 'none' }),
    (err: { code?: string }) => err,
  )

describe('buildTemplate', () => {
  it('copies every file of the example apps, edited only where the repository shows', async () => {
    const copied: [from: string, to: string][] = []
    for (const source of TEMPLATE_SOURCES) {
      for (const path of source.paths) {
        const from = join(REPO_ROOT, source.from, path)
        const entries = (await stat(from)).isFile()
          ? ['']
          : (await readdir(from, { recursive: true, withFileTypes: true }))
              .filter((entry) => entry.isFile())
              .map((entry) => relative(from, join(entry.parentPath, entry.name)))
        for (const entry of entries) {
          copied.push([join(from, entry), join(source.to, path, entry)])
        }
      }
    }
    const written = ['README.md', 'gitignore', 'package.json', 'tsconfig.json', 'vitest.config.ts']
    expect(files).toEqual([...copied.map(([, to]) => to), ...written].sort())

    // Only condition flags, pnpm commands and the web page's import of the kernel differ.
    const normal = (text: string) =>
      text
        .replaceAll(/,? '?--conditions=@picostack\/source'?|'@picostack\/source', /g, '')
        .replaceAll(/ *\/\/ The workspace packages' TypeScript sources[^\n]*\n/g, '')
        .replaceAll(/pnpm demo|npm run demo/g, 'DEMO')
        .replaceAll("from '../../src/kernel.ts'", "from 'todo'")
    for (const [from, to] of copied) {
      const edited = await readFile(join(template, to), 'utf8')
      expect(edited).not.toMatch(/@picostack\/source|workspace:|pnpm /)
      expect(normal(edited), to).toBe(normal(await readFile(from, 'utf8')))
    }
  })

  it('writes a standalone package.json: published picostack ranges, test scripts, no workspace', async () => {
    const pkg = JSON.parse(await readFile(join(template, 'package.json'), 'utf8'))
    const picostack = JSON.parse(
      await readFile(join(REPO_ROOT, 'packages', 'picostack', 'package.json'), 'utf8'),
    )
    expect(pkg.name).toBe(TEMPLATE_NAME)
    expect(pkg.dependencies.picostack).toBe(`^${picostack.version}`)
    expect(Object.values(pkg.dependencies).some((r) => String(r).startsWith('workspace:'))).toBe(
      false,
    )
    expect(pkg.scripts).toMatchObject({
      test: 'vitest run',
      typecheck: 'tsc',
      todo: 'tsx src/cli.ts',
      demo: 'tsx scripts/demo.ts',
    })
    expect(Object.keys(pkg.devDependencies).sort()).toEqual([
      '@types/node',
      'tsx',
      'typescript',
      'vite',
      'vitest',
    ])
    const readme = await readFile(join(template, 'README.md'), 'utf8')
    const heading = (await readFile(join(EXAMPLE, 'README.md'), 'utf8')).split('\n')[0]!
    expect(readme.split('\n')[0]).toBe(heading.replace(/^# [^:]+/, `# ${TEMPLATE_NAME}`))
    expect(readme).toContain('npm run todo -- add buy milk')
  })
})

describe('the template', () => {
  it('passes the repository lint (Biome), so a built template/ never fails `pnpm lint`', async () => {
    const biome = join(REPO_ROOT, 'node_modules', '.bin', 'biome')
    const config = join(REPO_ROOT, 'biome.json')
    const result = await run(biome, ['check', '--config-path', config, template]).catch((e) => e)
    expect(result.code === undefined ? '' : result.stderr).toBe('')
  })
})

describe('createApp', () => {
  it('copies the template, names the package and the README, restores .gitignore', async () => {
    const app = await createApp(join(tmp, 'apps', 'my-app'), { templateDir: template })
    expect(app).toEqual({ dir: join(tmp, 'apps', 'my-app'), name: 'my-app', packs: {} })
    const pkg = JSON.parse(await readFile(join(app.dir, 'package.json'), 'utf8'))
    expect(pkg.name).toBe('my-app')
    expect(pkg.overrides).toBeUndefined()
    expect((await readFile(join(app.dir, 'README.md'), 'utf8')).split('\n')[0]).toMatch(
      /^# my-app(:|$)/,
    )
    expect(await readFile(join(app.dir, '.gitignore'), 'utf8')).toMatch(/^node_modules\n/)
    expect((await readdir(app.dir)).sort()).toEqual(
      [
        '.gitignore',
        'README.md',
        'package.json',
        'scripts',
        'src',
        'test',
        'tsconfig.json',
        'vitest.config.ts',
        'web',
      ].sort(),
    )
  })

  it('writes into an empty folder, with --name', async () => {
    const dir = join(tmp, 'empty')
    await mkdir(dir)
    expect((await createApp(dir, { templateDir: template, name: '@me/todo' })).name).toBe(
      '@me/todo',
    )
  })

  it('refuses a non-empty folder or a file with CREATE_NOT_EMPTY and writes nothing', async () => {
    const dir = join(tmp, 'taken')
    await mkdir(dir)
    await writeFile(join(dir, 'notes.txt'), 'mine')
    expect(await failure(createApp(dir, { templateDir: template }))).toMatchObject({
      code: 'CREATE_NOT_EMPTY',
    })
    expect(await readdir(dir)).toEqual(['notes.txt'])
    expect(
      await failure(createApp(join(dir, 'notes.txt'), { templateDir: template })),
    ).toMatchObject({ code: 'CREATE_NOT_EMPTY' })
    expect(await readFile(join(dir, 'notes.txt'), 'utf8')).toBe('mine')
  })

  it('refuses bad names, a missing template and a folder that is no picostack checkout', async () => {
    for (const name of ['My-App', '.hidden', 'a b', '', 'x'.repeat(215), '@/x']) {
      expect(() => checkPackageName(name)).toThrow(
        expect.objectContaining({ code: 'CREATE_INVALID_NAME' }),
      )
    }
    expect(checkPackageName('my-app.v2')).toBe('my-app.v2')
    const noTemplate = createApp(join(tmp, 'a1'), { templateDir: join(tmp, 'nowhere') })
    expect(await failure(noTemplate)).toMatchObject({ code: 'CREATE_NO_TEMPLATE' })
    await expect(readdir(join(tmp, 'a1'))).rejects.toMatchObject({ code: 'ENOENT' })
    const notCheckout = createApp(join(tmp, 'a2'), { templateDir: template, workspace: tmp })
    expect(await failure(notCheckout)).toMatchObject({ code: 'CREATE_WORKSPACE' })
  })

  it('names tarballs as pnpm pack does', () => {
    expect(tarballName('@picostack/feed', '0.1.0')).toBe('picostack-feed-0.1.0.tgz')
    expect(tarballName('picostack', '1.2.3')).toBe('picostack-1.2.3.tgz')
  })
})

describe('the create-picostack command', () => {
  it('exits 1 with a typed message on a non-empty folder, bad options or no folder', async () => {
    const taken = await cli(REPO_ROOT)
    expect(taken.code).toBe(1)
    expect(taken.stderr).toMatch(/^error CREATE_NOT_EMPTY: /)
    expect((await cli('--bogus', 'x')).stderr).toMatch(/^error CREATE_INVALID_INPUT: /)
    expect((await cli()).code).toBe(1)
    expect((await cli(join(tmp, 'Bad Name'))).stderr).toMatch(/^error CREATE_INVALID_NAME: /)
  })

  it('prints its usage with --help', async () => {
    const help = await cli('--help')
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/^usage: create-picostack <dir>/)
  })
})
