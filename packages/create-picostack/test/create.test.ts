import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTemplate, TEMPLATES, templateTsconfig } from '../src/build-template.ts'
import {
  checkPackageName,
  createApp,
  resolveTemplate,
  TEMPLATE_CHOICES,
  TEMPLATE_NAME,
  tarballName,
} from '../src/index.ts'
import { PACKAGE_DIR, TEMPLATE_NAMES, type TemplateName } from '../src/template.ts'

const run = promisify(execFile)
const REPO_ROOT = join(PACKAGE_DIR, '..', '..')
const EXAMPLE = join(REPO_ROOT, 'examples', 'todo')

let tmp: string
/** Each template, built into tmp/templates/<name>, with the files written. */
const built = {} as Record<TemplateName, { dir: string; files: string[] }>
let template: string
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'create-picostack-'))
  for (const name of TEMPLATE_NAMES) {
    const dir = join(tmp, 'templates', name)
    built[name] = { dir, files: await buildTemplate(REPO_ROOT, dir, name) }
  }
  template = built.todo.dir
})
afterAll(() => rm(tmp, { recursive: true, force: true }))

/** Runs the CLI from source (in this package's folder); resolves with its exit code and output. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const out = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
      cwd: PACKAGE_DIR,
      env: { ...process.env, INIT_CWD: '' },
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
  it.each(TEMPLATE_NAMES)(
    '%s: copies every file of its examples, edited only where the repository shows',
    async (name) => {
      const { dir, files } = built[name]
      const copied: [from: string, to: string][] = []
      for (const source of TEMPLATES[name].sources) {
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
      const written = [
        'README.md',
        'gitignore',
        'package.json',
        'tsconfig.json',
        'vitest.config.ts',
      ]
      expect(files).toEqual([...copied.map(([, to]) => to), ...written].sort())

      // Only condition flags, pnpm commands and the web page's import of the kernel differ.
      const normal = (text: string) =>
        text
          .replaceAll(/,? '?--conditions=@picostack\/source'?|'@picostack\/source', /g, '')
          .replaceAll(/ *\/\/ The workspace packages' TypeScript sources[^\n]*\n/g, '')
          .replaceAll(/pnpm demo|npm run demo/g, 'DEMO')
          .replaceAll(/pnpm --filter todo (todo|testnet) |npm run (todo|testnet) -- /g, 'RUN $1$2 ')
          .replaceAll("from '../../src/kernel.ts'", "from 'todo'")
      for (const [from, to] of copied) {
        const edited = await readFile(join(dir, to), 'utf8')
        expect(edited).not.toMatch(/@picostack\/source|workspace:|pnpm /)
        expect(normal(edited), to).toBe(normal(await readFile(from, 'utf8')))
      }
      expect(JSON.parse(await readFile(join(dir, 'tsconfig.json'), 'utf8'))).toEqual(
        templateTsconfig(name),
      )
    },
  )

  it('writes a standalone package.json: published picostack ranges, test scripts, no workspace', async () => {
    const pkg = JSON.parse(await readFile(join(template, 'package.json'), 'utf8'))
    const picostack = JSON.parse(
      await readFile(join(REPO_ROOT, 'packages', 'picostack', 'package.json'), 'utf8'),
    )
    expect(pkg.name).toBe(TEMPLATE_NAME)
    expect(pkg.dependencies['@picostack/kernel']).toBe(`^${picostack.version}`)
    expect(Object.values(pkg.dependencies).some((r) => String(r).startsWith('workspace:'))).toBe(
      false,
    )
    expect(pkg.scripts).toMatchObject({
      test: 'vitest run',
      typecheck: 'tsc',
      todo: 'tsx src/cli.ts',
      demo: 'tsx scripts/demo.ts',
      testnet: 'tsx scripts/testnet.ts',
      preview: 'vite build web && vite preview web',
    })
    // The tools, and the workspace packages the example's tests use.
    expect(Object.keys(pkg.devDependencies).sort()).toEqual([
      '@picostack/simulator',
      '@types/node',
      'tsx',
      'typescript',
      'vite',
      'vitest',
    ])
    expect(pkg.devDependencies['@picostack/simulator']).toMatch(/^\^\d/)
    const readme = await readFile(join(template, 'README.md'), 'utf8')
    const heading = (await readFile(join(EXAMPLE, 'README.md'), 'utf8')).split('\n')[0]!
    expect(readme.split('\n')[0]).toBe(heading.replace(/^# [^:]+/, `# ${TEMPLATE_NAME}`))
    expect(readme).toContain('npm run todo -- add buy milk')
  })
})

describe('the minimal template', () => {
  it('is one kernel file and one test, with picostack and the tools to test them', async () => {
    const { dir, files } = built.minimal
    expect(files.filter((file) => file.endsWith('.ts') && file !== 'vitest.config.ts')).toEqual([
      'src/kernel.ts',
      'test/kernel.test.ts',
    ])
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'))
    expect(Object.keys(pkg.dependencies)).toEqual(['@picostack/kernel'])
    expect(pkg.scripts).toEqual({ test: 'vitest run', typecheck: 'tsc' })
    expect(Object.keys(pkg.devDependencies).sort()).toEqual([
      '@types/node',
      'tsx',
      'typescript',
      'vitest',
    ])
    const readme = await readFile(join(dir, 'README.md'), 'utf8')
    expect(readme).not.toMatch(/--project|pnpm /)
  })
})

describe('the react template', () => {
  it('is the to-do app with the React page in web/: its hooks, React and their types, JSX', async () => {
    const { dir, files } = built.react
    expect(files.filter((file) => file.startsWith('web/')).sort()).toEqual([
      'web/index.html',
      'web/src/App.tsx',
      'web/src/main.tsx',
      'web/src/relay.ts',
      'web/vite.config.ts',
    ])
    // The kernel, CLI, scripts and tests are the to-do app's.
    const notWeb = (list: string[]) => list.filter((file) => !file.startsWith('web/'))
    expect(notWeb(files)).toEqual(notWeb(built.todo.files))
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'))
    const todo = JSON.parse(await readFile(join(built.todo.dir, 'package.json'), 'utf8'))
    const example = JSON.parse(
      await readFile(join(REPO_ROOT, 'examples', 'todo-react', 'package.json'), 'utf8'),
    )
    const react = JSON.parse(
      await readFile(join(REPO_ROOT, 'packages', 'react', 'package.json'), 'utf8'),
    )
    expect(pkg.scripts).toEqual(todo.scripts)
    expect(pkg.dependencies).toEqual({
      ...todo.dependencies,
      '@picostack/react': `^${react.version}`,
      react: example.dependencies.react,
      'react-dom': example.dependencies['react-dom'],
    })
    expect(pkg.devDependencies).toEqual({
      ...todo.devDependencies,
      '@types/react': example.devDependencies['@types/react'],
      '@types/react-dom': example.devDependencies['@types/react-dom'],
    })
    const tsconfig = JSON.parse(await readFile(join(dir, 'tsconfig.json'), 'utf8'))
    expect(tsconfig.compilerOptions.jsx).toBe('react-jsx')
    expect(templateTsconfig('todo').compilerOptions.jsx).toBeUndefined()
    // The page imports the app's own kernel, not the repository's `todo` package.
    const app = await readFile(join(dir, 'web', 'src', 'App.tsx'), 'utf8')
    expect(app).toContain("import type { Task, TodoKernel } from '../../src/kernel.ts'")
    const readme = await readFile(join(dir, 'README.md'), 'utf8')
    expect(readme).toContain('`web/src/App.tsx` (in a scaffolded app)')
    expect(readme).not.toContain('web/src/main.ts`')
  })
})

describe('the template', () => {
  it('passes the repository lint (Biome), so a built templates/ never fails `pnpm lint`', async () => {
    const biome = join(REPO_ROOT, 'node_modules', '.bin', 'biome')
    const config = join(REPO_ROOT, 'biome.json')
    const dirs = TEMPLATE_NAMES.map((name) => built[name].dir)
    const result = await run(biome, ['check', '--config-path', config, ...dirs]).catch((e) => e)
    expect(result.code === undefined ? '' : result.stderr).toBe('')
  })

  it('points the README at picostack docs, never at the unrelated npm package', async () => {
    for (const name of TEMPLATE_NAMES) {
      const readme = await readFile(join(built[name].dir, 'README.md'), 'utf8')
      expect(readme).toContain('## Learn more')
      expect(readme).not.toMatch(/npmjs\.com\/package\/picostack\b/)
    }
  })
})

describe('createApp', () => {
  it('copies the template, names the package and the README, restores .gitignore', async () => {
    const app = await createApp(join(tmp, 'apps', 'my-app'), { templateDir: template })
    expect(app).toEqual({
      dir: join(tmp, 'apps', 'my-app'),
      name: 'my-app',
      template: 'todo',
      packs: {},
    })
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

  it('copies the template asked for (an alias: its template), and refuses one that does not exist', async () => {
    const dir = join(tmp, 'apps', 'mini')
    const app = await createApp(dir, { template: 'minimal', templateDir: built.minimal.dir })
    expect(app.template).toBe('minimal')
    expect((await readdir(join(dir, 'src'))).sort()).toEqual(['kernel.ts'])
    expect((await readdir(join(dir, 'test'))).sort()).toEqual(['kernel.test.ts'])
    const react = await createApp(join(tmp, 'apps', 'react'), {
      template: 'react',
      templateDir: built.react.dir,
    })
    expect(react.template).toBe('react')
    expect((await readdir(join(react.dir, 'web', 'src'))).sort()).toEqual([
      'App.tsx',
      'main.tsx',
      'relay.ts',
    ])
    // vanilla is another name of todo (the web page in plain TypeScript).
    expect(resolveTemplate('vanilla')).toBe('todo')
    const vanilla = await createApp(join(tmp, 'apps', 'vanilla'), {
      template: 'vanilla',
      templateDir: built.todo.dir,
    })
    expect(vanilla.template).toBe('todo')
    expect(await readdir(join(vanilla.dir, 'web', 'src'))).toContain('main.ts')
    for (const name of ['huge', 'constructor', 'Todo', ''])
      expect(resolveTemplate(name)).toBe(undefined)
    const unknown = createApp(join(tmp, 'a0'), { template: 'huge' as TemplateName })
    expect(await failure(unknown)).toMatchObject({ code: 'CREATE_INVALID_INPUT' })
    await expect(readdir(join(tmp, 'a0'))).rejects.toMatchObject({ code: 'ENOENT' })
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
    const huge = await cli(join(tmp, 'huge'), '--template', 'huge')
    expect(huge).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^error CREATE_INVALID_INPUT: /),
    })
  })

  it('prints its usage with --help', async () => {
    const help = await cli('--help')
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/^usage: create-picostack <dir>/)
    expect(help.stdout).toContain('--template <name>')
    expect(TEMPLATE_CHOICES).toEqual(['todo', 'react', 'minimal', 'vanilla'])
    expect(help.stdout).toContain('[--template todo|react|minimal|vanilla]')
    expect(help.stdout).toMatch(/vanilla: the same as\s+todo/)
  })
})
