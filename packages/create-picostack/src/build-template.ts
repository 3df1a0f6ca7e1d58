/**
 * Builds `template/` from the repository's to-do example (`examples/todo`), so the
 * template is never a hand-kept copy: `pnpm --filter create-picostack build` (also run by
 * `prepack`) regenerates it, and `template/` is git-ignored.
 *
 * The example's sources, tests and scripts are copied as they are, minus what only makes
 * sense inside this repository (the `@picostack/source` condition, `pnpm --filter`
 * commands); `package.json`, `tsconfig.json`, `vitest.config.ts` and `README.md` are
 * written for a standalone app that installs picostack from npm.
 */
import { cp, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { pathToFileURL } from 'node:url'
import { PACKAGE_DIR, TEMPLATE_DIR, TEMPLATE_NAME } from './template.ts'

/**
 * What of the repository makes up the template: `paths` (folders or files) of `from` are
 * copied to `to` inside the template. The first entry is the app's root.
 */
export const TEMPLATE_SOURCES: readonly { from: string; to: string; paths: readonly string[] }[] = [
  { from: 'examples/todo', to: '.', paths: ['src', 'test', 'scripts'] },
  // The web page, without its Chromium tests (they need a system browser).
  { from: 'examples/todo-web', to: 'web', paths: ['index.html', 'vite.config.ts', 'src'] },
]

/** Text edits applied to every copied file and the README: [find, replace]. */
const EDITS: readonly [string | RegExp, string][] = [
  [/ *\/\/ The workspace packages' TypeScript sources[^\n]*\n/g, ''],
  [/'@picostack\/source', /g, ''],
  [/ from 'todo'/g, " from '../../src/kernel.ts'"],
  [/, '--conditions=@picostack\/source'/g, ''],
  [/ --conditions=@picostack\/source/g, ''],
  [/pnpm demo +# from the repository root: /g, 'npm run demo   # '],
  [/pnpm --filter todo demo/g, 'npm run demo --'],
  [/pnpm --filter todo todo /g, 'npm run todo -- '],
  [/npx vitest run --project todo/g, 'npm test'],
  [/pnpm demo/g, 'npm run demo'],
]

/** What must not survive the edits: repository-only commands and conditions. */
const LEFTOVERS = /workspace:|@picostack\/source|pnpm |--project /

/** The template's README ends with where to read on. */
const README_FOOTER = `
## The web page (\`web/\`)

The same kernel in a browser tab: tasks in IndexedDB, synced through a relay peer (a
kernel in Node on the list's topic that browsers reach over a WebSocket).

\`\`\`sh
npm run relay -- --topic our-flat --port 8080   # picostack-relay from @picostack/relay
npm run web                                     # open http://localhost:5173/?relay=ws://localhost:8080/
npm run build:web                               # a static site in web/dist
\`\`\`

## Learn more

Made with \`npm create picostack\`. The picostack guides, concepts and API reference:
https://www.npmjs.com/package/picostack (and \`docs/\` in the picostack repository).
`

type PackageJson = {
  name: string
  version: string
  private?: boolean
  description?: string
  scripts?: Record<string, string>
  dependencies?: Record<string, string>
  devDependencies?: Record<string, string>
}

const readJson = async <T>(path: string): Promise<T> => JSON.parse(await readFile(path, 'utf8'))
const writeJson = (path: string, value: unknown) =>
  writeFile(path, `${JSON.stringify(value, null, 2)}\n`)

function edit(text: string, file: string): string {
  const edited = EDITS.reduce((out, [find, replace]) => out.replaceAll(find, replace), text)
  const leftover = LEFTOVERS.exec(edited)
  if (leftover) {
    throw new Error(`template: ${file} still says "${leftover[0]}" after the edits; add an edit`)
  }
  return edited
}

/** Versions of the workspace's packages, by npm name. */
async function workspaceVersions(repoRoot: string): Promise<Map<string, string>> {
  const versions = new Map<string, string>()
  for (const dir of await readdir(join(repoRoot, 'packages'))) {
    const pkg = await readJson<PackageJson>(join(repoRoot, 'packages', dir, 'package.json'))
    versions.set(pkg.name, pkg.version)
  }
  return versions
}

/** `workspace:*` ranges become `^<version>` of that package. */
function publishedRanges(
  deps: Record<string, string> = {},
  versions: Map<string, string>,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(deps).map(([name, range]) => {
      if (!range.startsWith('workspace:')) return [name, range]
      const version = versions.get(name)
      if (!version) throw new Error(`template: ${name} is not a package of this workspace`)
      return [name, `^${version}`]
    }),
  )
}

/** Copies a file or a folder, applying {@link EDITS} to every file. */
async function copyEdited(from: string, to: string): Promise<void> {
  await cp(from, to, { recursive: true })
  const files = (await stat(to)).isFile()
    ? [to]
    : (await readdir(to, { recursive: true, withFileTypes: true }))
        .filter((entry) => entry.isFile())
        .map((entry) => join(entry.parentPath, entry.name))
  for (const file of files) await writeFile(file, edit(await readFile(file, 'utf8'), file))
}

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    lib: ['ES2022', 'DOM'],
    module: 'ESNext',
    moduleResolution: 'Bundler',
    strict: true,
    noUncheckedIndexedAccess: true,
    noImplicitOverride: true,
    verbatimModuleSyntax: true,
    isolatedModules: true,
    skipLibCheck: true,
    noEmit: true,
    allowImportingTsExtensions: true,
    types: ['node'],
  },
  // hyperswarm and hyperdht ship no types; @picostack/modem carries declarations for them.
  include: ['src', 'test', 'scripts', 'web', 'node_modules/@picostack/modem/src/types'],
}

const VITEST_CONFIG = `import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The tests start peers over a local HyperDHT testnet (127.0.0.1) and child processes.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
})
`

const GITIGNORE = 'node_modules\n*.log\nweb/dist\n'

/**
 * Writes the template into `outDir` (emptied first) from the repository at `repoRoot`.
 * @returns the files written, relative to `outDir`, sorted
 * @throws Error when an example file still holds repository-only text after the edits
 */
export async function buildTemplate(repoRoot: string, outDir: string): Promise<string[]> {
  await rm(outDir, { recursive: true, force: true })
  await mkdir(outDir, { recursive: true })
  const versions = await workspaceVersions(repoRoot)
  const root = await readJson<PackageJson>(join(repoRoot, 'package.json'))
  const [main] = TEMPLATE_SOURCES
  const example = await readJson<PackageJson>(join(repoRoot, main!.from, 'package.json'))

  for (const source of TEMPLATE_SOURCES) {
    for (const path of source.paths) {
      await copyEdited(join(repoRoot, source.from, path), join(outDir, source.to, path))
    }
  }

  const web = await readJson<PackageJson>(join(repoRoot, 'examples/todo-web/package.json'))
  const toolRange = (tool: string) =>
    root.devDependencies?.[tool] ?? web.devDependencies?.[tool] ?? 'latest'
  const tools = ['@types/node', 'tsx', 'typescript', 'vite', 'vitest']
  const scripts = Object.fromEntries(
    Object.entries(example.scripts ?? {}).map(([name, command]) => [name, edit(command, name)]),
  )
  await writeJson(join(outDir, 'package.json'), {
    name: TEMPLATE_NAME,
    version: '0.1.0',
    private: true,
    description: example.description,
    type: 'module',
    engines: { node: '>=20.19' },
    scripts: {
      ...scripts,
      test: 'vitest run',
      typecheck: 'tsc',
      web: 'vite web',
      'build:web': 'vite build web',
      relay: 'picostack-relay',
    },
    // `npm run relay` runs the bin of @picostack/relay.
    dependencies: publishedRanges(
      { ...example.dependencies, '@picostack/relay': 'workspace:*' },
      versions,
    ),
    devDependencies: Object.fromEntries(tools.map((tool) => [tool, toolRange(tool)])),
  })
  await writeJson(join(outDir, 'tsconfig.json'), TSCONFIG)
  await writeFile(join(outDir, 'vitest.config.ts'), VITEST_CONFIG)
  // npm drops `.gitignore` from packed packages, so it travels as `gitignore`.
  await writeFile(join(outDir, 'gitignore'), GITIGNORE)
  const readme = await readFile(join(repoRoot, main!.from, 'README.md'), 'utf8')
  const body = readme.replace(/^# [^:\n]+/, `# ${TEMPLATE_NAME}`)
  await writeFile(join(outDir, 'README.md'), edit(body, 'README.md') + README_FOOTER)

  const files = await readdir(outDir, { recursive: true, withFileTypes: true })
  return files
    .filter((entry) => entry.isFile())
    .map((entry) => relative(outDir, join(entry.parentPath, entry.name)))
    .sort()
}

// `tsx src/build-template.ts` (the package's build step) writes ./template.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const files = await buildTemplate(join(PACKAGE_DIR, '..', '..'), TEMPLATE_DIR)
  console.log(`template: ${files.length} files from ${TEMPLATE_SOURCES.map((s) => s.from)}`)
}
