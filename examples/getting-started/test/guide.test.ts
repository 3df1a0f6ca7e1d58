/**
 * Every code block of the getting-started guide runs and prints what the guide says it
 * prints, type-checks under the tsconfig the guide shows, and the files the guide shows
 * are the ones the minimal template writes (its kernel, its tsconfig).
 */
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { templateTsconfig } from '../../../packages/create-picostack/src/build-template.ts'
import { fences } from './markdown.ts'

const run = promisify(execFile)
const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..')
const REPO_ROOT = join(PACKAGE_DIR, '..', '..')
const GUIDE = join(REPO_ROOT, 'docs', 'getting-started.md')
/** Where the blocks are written: inside this package, so `picostack` resolves. */
const BLOCKS_DIR = join(PACKAGE_DIR, '.guide')

interface Block {
  /** The file its first line names (`// src/kernel.ts`), relative to the project. */
  file: string
  code: string
  /** The ```text block right after it, if any: what running it prints. */
  expected?: string
}

const markdown = await readFile(GUIDE, 'utf8')
const all = fences(markdown)

/** The guide's ```ts blocks, each with the file its first line names and its output. */
const blocks: Block[] = all.flatMap((fence, i) => {
  if (fence.lang !== 'ts') return []
  const file = /^\/\/ ([\w/-]+\.ts)\b/.exec(fence.body)?.[1]
  if (!file)
    throw new Error(`a ts block of the guide does not start with // <file>.ts:\n${fence.body}`)
  const next = all[i + 1]
  return [{ file, code: fence.body, expected: next?.lang === 'text' ? next.body : undefined }]
})

/** The tsconfig.json the guide shows (its ```json block with compilerOptions). */
const tsconfig = JSON.parse(
  all.find((fence) => fence.lang === 'json' && fence.body.includes('compilerOptions'))?.body ??
    'null',
)

let cwd: string

beforeAll(async () => {
  await rm(BLOCKS_DIR, { recursive: true, force: true })
  for (const { file, code } of blocks) {
    await mkdir(dirname(join(BLOCKS_DIR, file)), { recursive: true })
    await writeFile(join(BLOCKS_DIR, file), code)
  }
  cwd = await mkdtemp(join(tmpdir(), 'getting-started-'))
})
afterAll(() => rm(cwd, { recursive: true, force: true }))

describe('docs/getting-started.md', () => {
  it('has TypeScript blocks, most of them with their output', () => {
    expect(blocks.map((b) => b.file)).toContain('src/kernel.ts')
    expect(blocks.filter((b) => b.expected).length).toBeGreaterThanOrEqual(3)
  })

  it('shows the kernel and the tsconfig that the minimal template writes', async () => {
    const kernel = blocks.find((block) => block.file === 'src/kernel.ts')!
    const chat = await readFile(join(REPO_ROOT, 'examples', 'chat', 'src', 'kernel.ts'), 'utf8')
    expect(kernel.code).toBe(chat)
    expect(tsconfig).toEqual(templateTsconfig('minimal'))
  })

  it('type-checks under the tsconfig it shows', async () => {
    // Inside this repository the packages resolve to their sources (the export condition)
    // and the Node types sit at the root; nothing else is added to the guide's options.
    const local = {
      ...tsconfig,
      compilerOptions: {
        ...tsconfig.compilerOptions,
        customConditions: ['@picostack/source'],
        typeRoots: [join(REPO_ROOT, 'node_modules', '@types')],
      },
    }
    await writeFile(join(BLOCKS_DIR, 'tsconfig.json'), JSON.stringify(local))
    const tsc = join(REPO_ROOT, 'node_modules', '.bin', 'tsc')
    const result = await run(tsc, ['-p', BLOCKS_DIR]).catch((err) => err)
    expect(result.stdout).toBe('')
  }, 120_000)

  it('is formatted and linted like the repository (Biome)', async () => {
    const biome = join(REPO_ROOT, 'node_modules', '.bin', 'biome')
    const result = await run(biome, ['check', BLOCKS_DIR], { cwd: REPO_ROOT }).catch((err) => err)
    expect(result.code === undefined ? '' : result.stderr).toBe('')
  })

  for (const block of blocks.filter((b) => b.expected !== undefined)) {
    it(`${block.file} prints what the guide says`, async () => {
      const tsx = join(PACKAGE_DIR, 'node_modules', '.bin', 'tsx')
      const args = ['--conditions=@picostack/source', join(BLOCKS_DIR, block.file)]
      const { stdout } = await run(tsx, args, { cwd })
      expect(stdout).toBe(block.expected)
    })
  }
})
