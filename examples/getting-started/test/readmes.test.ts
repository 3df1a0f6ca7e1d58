/**
 * Every TypeScript block (```ts) of the root README and of each package's README
 * type-checks under strict options, against the packages' sources, as the guide's blocks
 * do (guide.test.ts). Each block is a module of its own, written inside the package whose
 * README shows it (so its imports resolve as they would for that package's users).
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fences } from './markdown.ts'

const run = promisify(execFile)
const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
/**
 * Where each package's blocks go: a tool cache inside the package's node_modules, so
 * imports resolve from the package, and neither git nor Biome (`pnpm lint`) sees them.
 */
const SNIPPETS = join('node_modules', '.cache', 'readme-snippets')

interface Snippet {
  /** The README, relative to the repository. */
  readme: string
  /** The block's file, absolute. */
  file: string
  code: string
}

/** The READMEs checked, each with the package folder its blocks resolve their imports from. */
async function readmes(): Promise<{ readme: string; packageDir: string }[]> {
  const packages = (await readdir(join(REPO_ROOT, 'packages'))).filter((dir) =>
    existsSync(join(REPO_ROOT, 'packages', dir, 'README.md')),
  )
  return [
    // The root README speaks of the facade: its blocks import '@picostack/kernel'.
    { readme: 'README.md', packageDir: join(REPO_ROOT, 'packages', 'picostack') },
    ...packages.map((dir) => ({
      readme: join('packages', dir, 'README.md'),
      packageDir: join(REPO_ROOT, 'packages', dir),
    })),
  ]
}

/** The ambient declarations of @picostack/modem (`src/types/*.d.ts`). */
async function modemTypes(): Promise<string[]> {
  const dir = join(REPO_ROOT, 'packages', 'modem', 'src', 'types')
  return (await readdir(dir))
    .filter((file) => file.endsWith('.d.ts'))
    .map((file) => join(dir, file))
}

const snippets: Snippet[] = []
afterAll(async () => {
  for (const { packageDir } of await readmes()) {
    await rm(join(packageDir, SNIPPETS), { recursive: true, force: true })
  }
})
beforeAll(async () => {
  for (const { readme, packageDir } of await readmes()) {
    const blocks = fences(await readFile(join(REPO_ROOT, readme), 'utf8')).filter(
      (fence) => fence.lang === 'ts',
    )
    const name = readme === 'README.md' ? 'root' : 'package'
    const dir = join(packageDir, SNIPPETS)
    await rm(dir, { recursive: true, force: true })
    if (blocks.length) await mkdir(dir, { recursive: true })
    for (const [i, block] of blocks.entries()) {
      const file = join(dir, `${name}-${i + 1}.ts`)
      // `export {}`: every block is a module (top-level await, no global names shared).
      await writeFile(file, `${block.body}export {}\n`)
      snippets.push({ readme, file, code: block.body })
    }
  }
})

describe('the READMEs', () => {
  it('have TypeScript blocks', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(8)
  })

  it('type-check (strict), each block as a module', async () => {
    const tsconfig = {
      extends: join(REPO_ROOT, 'tsconfig.base.json'),
      compilerOptions: {
        noEmit: true,
        typeRoots: [join(REPO_ROOT, 'node_modules', '@types')],
        // A package's README may show it beside the facade or a sibling it does not
        // depend on (a kernel in the modem's example): every workspace package resolves.
        paths: {
          '@picostack/kernel': [join(REPO_ROOT, 'packages', 'picostack', 'src', 'index.ts')],
          '@picostack/*': [join(REPO_ROOT, 'packages', '*', 'src', 'index.ts')],
        },
      },
      // hyperswarm, hyperdht and protomux ship no types; @picostack/modem declares them.
      files: [...snippets.map((snippet) => snippet.file), ...(await modemTypes())],
    }
    const project = join(REPO_ROOT, 'examples', 'getting-started', '.guide', 'readmes.json')
    await mkdir(dirname(project), { recursive: true })
    await writeFile(project, JSON.stringify(tsconfig))
    const tsc = join(REPO_ROOT, 'node_modules', '.bin', 'tsc')
    const result = await run(tsc, ['-p', project]).catch((err) => err)
    const errors = String(result.stdout ?? '')
    expect(errors).toBe('')
  }, 120_000)
})
