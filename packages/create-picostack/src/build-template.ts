/**
 * Builds the templates (`templates/<name>/`) from the repository's examples (the to-do app
 * in `examples/todo` with its web page from `examples/todo-web`, or from
 * `examples/todo-react` for `react`; the guide's chat kernel in `examples/chat`),
 * so no template is a hand-kept copy: `pnpm --filter create-picostack build` (also run by
 * `prepack`) regenerates them, and `templates/` is git-ignored.
 *
 * The examples' sources, tests and scripts are copied as they are, minus what only makes
 * sense inside this repository (the `@picostack/source` condition, `pnpm --filter`
 * commands); `package.json`, `tsconfig.json`, `vitest.config.ts` and `README.md` are
 * written for a standalone app that installs picostack from npm (or, with `--workspace`,
 * from packed tarballs of a checkout).
 */
import { cp, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { pathToFileURL } from 'node:url'
import {
  DEFAULT_TEMPLATE,
  DOCS_PLACEHOLDER,
  PACKAGE_DIR,
  TEMPLATE_NAME,
  TEMPLATE_NAMES,
  type TemplateName,
  templateDir,
} from './template.ts'

/** A folder of the repository copied into a template: `paths` of `from` go to `to`. */
export interface TemplateSource {
  /** The repository folder. */
  from: string
  /** Where in the template its `paths` go. */
  to: string
  /** Files or folders of `from`. */
  paths: readonly string[]
}

/** What a template is made of, and what is written for it. */
export interface TemplateSpec {
  /** Copied folders; the first is the app's root (its package.json scripts and README). */
  sources: readonly TemplateSource[]
  /** Scripts beyond the example's own (`test` and `typecheck` every template has). */
  scripts: Record<string, string>
  /**
   * Dependencies beyond the example's own (workspace packages at `^` their version). The
   * example's workspace dev dependencies become the app's dev dependencies too.
   */
  dependencies: Record<string, string>
  /** Third-party dependencies, at the versions the copied examples depend on. */
  libraries: readonly string[]
  /** Dev dependencies, at the repository's versions (else the copied examples'). */
  tools: readonly string[]
  /** The tsconfig's `include`. */
  include: readonly string[]
  /** The tsconfig's compiler options beyond those every template has. */
  compilerOptions: Record<string, unknown>
  /** What the vitest config says about its timeouts. */
  testsNote: string
  /** Text after the example's README. */
  readmeFooter: string
  /** Edits of the example's README for this template only: [find, replace]. */
  readmeEdits: readonly [string, string][]
}

const LEARN_MORE = `
## Learn more

Made with create-picostack. picostack's guides (getting started, concepts, the block
format, the sync protocol) are in ${DOCS_PLACEHOLDER}:
start with its \`README.md\`. Each picostack package's guide is its README
(\`node_modules/@picostack/kernel/README.md\` once installed).
`

/** The scripts of the to-do app's web page (in `web/`) and its relay. */
const TODO_WEB_SCRIPTS = {
  web: 'vite web',
  'build:web': 'vite build web',
  preview: 'vite build web && vite preview web',
  relay: 'picostack-relay',
}

/**
 * What the to-do app's tsconfig checks. hyperswarm and hyperdht ship no types;
 * @picostack/modem carries declarations for them.
 */
const TODO_INCLUDE = ['src', 'test', 'scripts', 'web', 'node_modules/@picostack/modem/src/types']

/** The templates, by name: what of the repository each is made of. */
export const TEMPLATES: Record<TemplateName, TemplateSpec> = {
  todo: {
    sources: [
      { from: 'examples/todo', to: '.', paths: ['src', 'test', 'scripts'] },
      // The web page, without its Chromium tests (they need a system browser).
      { from: 'examples/todo-web', to: 'web', paths: ['index.html', 'vite.config.ts', 'src'] },
    ],
    scripts: TODO_WEB_SCRIPTS,
    // `npm run relay` runs the bin of @picostack/relay.
    dependencies: { '@picostack/relay': 'workspace:*' },
    libraries: [],
    tools: ['@types/node', 'tsx', 'typescript', 'vite', 'vitest'],
    include: TODO_INCLUDE,
    compilerOptions: {},
    testsNote:
      'The tests start peers over a local HyperDHT testnet (127.0.0.1) and child processes.',
    readmeFooter: `
## The web page (\`web/\`)

The same kernel in a browser tab: tasks in IndexedDB, synced through a relay peer (a
kernel in Node on the list's topic that browsers reach over a WebSocket). The page reads
the first page of tasks from IndexedDB (\`listPage\`), never all of them. To bound what
the tab keeps, give the kernel a storage budget seeded from the browser's quota:
\`new TodoKernel(dbName, { maxRepoBytes: await storageBudget() })\` (\`storageBudget\`
from \`@picostack/kernel\`).

\`\`\`sh
npm run relay -- --topic our-flat --port 8080   # picostack-relay from @picostack/relay
npm run web                                     # open http://localhost:5173/?relay=ws://localhost:8080/
npm run build:web                               # a static site in web/dist
npm run preview                                 # builds it and serves web/dist on http://localhost:4173/
\`\`\`
${LEARN_MORE}`,
    readmeEdits: [],
  },
  react: {
    sources: [
      { from: 'examples/todo', to: '.', paths: ['src', 'test', 'scripts'] },
      // The React page, without its Chromium tests (they need a system browser).
      { from: 'examples/todo-react', to: 'web', paths: ['index.html', 'vite.config.ts', 'src'] },
    ],
    scripts: TODO_WEB_SCRIPTS,
    dependencies: { '@picostack/relay': 'workspace:*', '@picostack/react': 'workspace:*' },
    libraries: ['react', 'react-dom'],
    tools: [
      '@types/node',
      '@types/react',
      '@types/react-dom',
      'tsx',
      'typescript',
      'vite',
      'vitest',
    ],
    include: TODO_INCLUDE,
    // React's automatic runtime, as web/vite.config.ts compiles it.
    compilerOptions: { jsx: 'react-jsx' },
    testsNote:
      'The tests start peers over a local HyperDHT testnet (127.0.0.1) and child processes.',
    readmeFooter: `
## The web page (\`web/\`), in React

The same kernel in a browser tab, rendered with React through \`@picostack/react\`: the
kernel is given to the page by \`<KernelProvider>\` (web/src/main.tsx), and web/src/App.tsx
reads it with hooks: \`usePeers\` and \`useOnline\` for the connection, \`useQuery\` for the
task list, a page of 50 at a time. Tasks live in IndexedDB and sync through a relay peer
(a kernel in Node on the list's topic that browsers reach over a WebSocket).

\`\`\`sh
npm run relay -- --topic our-flat --port 8080   # picostack-relay from @picostack/relay
npm run web                                     # open http://localhost:5173/?relay=ws://localhost:8080/
npm run build:web                               # a static site in web/dist
npm run preview                                 # builds it and serves web/dist on http://localhost:4173/
\`\`\`

Page parameters: \`?relay=ws://host:port/\`, \`?db=name\` (the IndexedDB name; \`memory\` for
a throwaway one), \`?seed=N\` (add N tasks when the list is empty, to try a large list).
${LEARN_MORE}`,
    readmeEdits: [
      [
        "| `web/src/main.ts` (in a scaffolded app) | the web page's rendering on the same kernel |",
        "| `web/src/App.tsx` (in a scaffolded app) | the React page's rendering on the same kernel (`web/src/main.tsx` boots it) |",
      ],
    ],
  },
  minimal: {
    sources: [{ from: 'examples/chat', to: '.', paths: ['src', 'test'] }],
    scripts: {},
    dependencies: {},
    libraries: [],
    tools: ['@types/node', 'tsx', 'typescript', 'vitest'],
    // Scripts of your own next to package.json (`npx tsx two-peers.ts`) are checked too.
    include: ['src', 'test', '*.ts'],
    compilerOptions: {},
    testsNote: 'The tests run peers in memory, in this process.',
    readmeFooter: LEARN_MORE,
    readmeEdits: [],
  },
}

/** Text edits applied to every copied file and the README: [find, replace]. */
const EDITS: readonly [string | RegExp, string][] = [
  [/ *\/\/ The workspace packages' TypeScript sources[^\n]*\n/g, ''],
  [/'@picostack\/source', /g, ''],
  [/ from 'todo'/g, " from '../../src/kernel.ts'"],
  [/, '--conditions=@picostack\/source'/g, ''],
  [/ --conditions=@picostack\/source/g, ''],
  [/pnpm demo +# from the repository root: /g, 'npm run demo   # '],
  [/pnpm --filter todo demo/g, 'npm run demo --'],
  [/pnpm --filter todo (todo|testnet) /g, 'npm run $1 -- '],
  [/pnpm --filter todo testnet/g, 'npm run testnet'],
  [/npx vitest run --project \w+/g, 'npm test'],
  [/pnpm demo/g, 'npm run demo'],
]

/** What must not survive the edits: repository-only commands and conditions. */
const LEFTOVERS = /workspace:|@picostack\/source|pnpm |--project /

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
    const path = join(repoRoot, 'packages', dir, 'package.json')
    const pkg = await readJson<PackageJson>(path).catch(() => undefined)
    if (pkg) versions.set(pkg.name, pkg.version)
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

/** The `workspace:` entries of a dependency list. */
function workspaceOnly(deps: Record<string, string> = {}): Record<string, string> {
  return Object.fromEntries(
    Object.entries(deps).filter(([, range]) => range.startsWith('workspace:')),
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

/**
 * The tsconfig.json of a template: strict, for TypeScript run by tsx and vitest (no emit).
 * `skipLibCheck` is needed: abstract-level's own declarations do not type-check under
 * these options.
 */
export function templateTsconfig(name: TemplateName): {
  compilerOptions: Record<string, unknown>
  include: string[]
} {
  return {
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
      ...TEMPLATES[name].compilerOptions,
    },
    include: [...TEMPLATES[name].include],
  }
}

const vitestConfig = (spec: TemplateSpec) => `import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // ${spec.testsNote}
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
})
`

const GITIGNORE = 'node_modules\n*.log\nweb/dist\n'

/**
 * Writes the template `name` into `outDir` (emptied first) from the repository at `repoRoot`.
 * @returns the files written, relative to `outDir`, sorted
 * @throws Error when an example file still holds repository-only text after the edits
 */
export async function buildTemplate(
  repoRoot: string,
  outDir: string,
  name: TemplateName = DEFAULT_TEMPLATE,
): Promise<string[]> {
  const spec = TEMPLATES[name]
  await rm(outDir, { recursive: true, force: true })
  await mkdir(outDir, { recursive: true })
  const versions = await workspaceVersions(repoRoot)
  const root = await readJson<PackageJson>(join(repoRoot, 'package.json'))
  const [main] = spec.sources
  const example = await readJson<PackageJson>(join(repoRoot, main!.from, 'package.json'))

  for (const source of spec.sources) {
    for (const path of source.paths) {
      await copyEdited(join(repoRoot, source.from, path), join(outDir, source.to, path))
    }
  }

  // Tool versions: the repository's, else those of the examples the template copies.
  const sourcePackages = await Promise.all(
    spec.sources.map((source) =>
      readJson<PackageJson>(join(repoRoot, source.from, 'package.json')),
    ),
  )
  const toolRange = (tool: string) =>
    [root, ...sourcePackages].map((pkg) => pkg.devDependencies?.[tool]).find(Boolean) ?? 'latest'
  const libraryRange = (library: string) => {
    const range = sourcePackages.map((pkg) => pkg.dependencies?.[library]).find(Boolean)
    if (!range) throw new Error(`template: no copied example depends on ${library}`)
    return range
  }
  const scripts = Object.fromEntries(
    Object.entries(example.scripts ?? {}).map(([script, command]) => [
      script,
      edit(command, script),
    ]),
  )
  await writeJson(join(outDir, 'package.json'), {
    name: TEMPLATE_NAME,
    version: '0.1.0',
    private: true,
    description: example.description,
    type: 'module',
    engines: { node: '>=20.19' },
    scripts: { ...scripts, test: 'vitest run', typecheck: 'tsc', ...spec.scripts },
    dependencies: publishedRanges(
      {
        ...example.dependencies,
        ...spec.dependencies,
        ...Object.fromEntries(spec.libraries.map((library) => [library, libraryRange(library)])),
      },
      versions,
    ),
    devDependencies: {
      ...Object.fromEntries(spec.tools.map((tool) => [tool, toolRange(tool)])),
      // The workspace packages the example's tests use (the simulator, for the to-do app).
      ...publishedRanges(workspaceOnly(example.devDependencies), versions),
    },
  })
  await writeJson(join(outDir, 'tsconfig.json'), templateTsconfig(name))
  await writeFile(join(outDir, 'vitest.config.ts'), vitestConfig(spec))
  // npm drops `.gitignore` from packed packages, so it travels as `gitignore`.
  await writeFile(join(outDir, 'gitignore'), GITIGNORE)
  const readme = await readFile(join(repoRoot, main!.from, 'README.md'), 'utf8')
  const body = spec.readmeEdits.reduce(
    (out, [find, replace]) => {
      if (!out.includes(find)) throw new Error(`template: README.md no longer says "${find}"`)
      return out.replace(find, replace)
    },
    readme.replace(/^# [^:\n]+/, `# ${TEMPLATE_NAME}`),
  )
  await writeFile(join(outDir, 'README.md'), edit(body, 'README.md') + spec.readmeFooter)

  const files = await readdir(outDir, { recursive: true, withFileTypes: true })
  return files
    .filter((entry) => entry.isFile())
    .map((entry) => relative(outDir, join(entry.parentPath, entry.name)))
    .sort()
}

// `tsx src/build-template.ts` (the package's build step) writes every template into ./templates.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const name of TEMPLATE_NAMES) {
    const files = await buildTemplate(join(PACKAGE_DIR, '..', '..'), templateDir(name), name)
    const from = TEMPLATES[name].sources.map((source) => source.from)
    console.log(`template ${name}: ${files.length} files from ${from.join(', ')}`)
  }
}
