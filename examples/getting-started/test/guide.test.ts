/**
 * What it must show, item 2: every code block of the getting-started guide runs and
 * prints what the guide says it prints.
 */
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..')
const REPO_ROOT = join(PACKAGE_DIR, '..', '..')
const GUIDE = join(REPO_ROOT, 'docs', 'getting-started.md')
/** Where the blocks are written: inside this package, so `picostack` resolves. */
const BLOCKS_DIR = join(PACKAGE_DIR, '.guide')

interface Block {
  file: string
  code: string
  /** The ```text block right after it, if any: what running it prints. */
  expected?: string
}

/** The guide's ```ts blocks, each with the file its first line names and its output. */
function extractBlocks(markdown: string): Block[] {
  const fences = [...markdown.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)]
  const blocks: Block[] = []
  fences.forEach(([, lang, body], i) => {
    if (lang !== 'ts') return
    const file = /^\/\/ ([\w-]+\.ts)\n/.exec(body!)?.[1]
    if (!file) throw new Error(`a ts block of the guide does not start with // <file>.ts:\n${body}`)
    const next = fences[i + 1]
    blocks.push({ file, code: body!, expected: next?.[1] === 'text' ? next[2] : undefined })
  })
  return blocks
}

const blocks = extractBlocks(await readFile(GUIDE, 'utf8'))
let cwd: string

beforeAll(async () => {
  await rm(BLOCKS_DIR, { recursive: true, force: true })
  await mkdir(BLOCKS_DIR)
  for (const { file, code } of blocks) await writeFile(join(BLOCKS_DIR, file), code)
  cwd = await mkdtemp(join(tmpdir(), 'getting-started-'))
})
afterAll(() => rm(cwd, { recursive: true, force: true }))

describe('docs/getting-started.md', () => {
  it('has TypeScript blocks, most of them with their output', () => {
    expect(blocks.map((b) => b.file)).toContain('kernel.ts')
    expect(blocks.filter((b) => b.expected).length).toBeGreaterThanOrEqual(3)
  })

  it('type-checks (strict)', async () => {
    const tsconfig = {
      extends: join(REPO_ROOT, 'tsconfig.base.json'),
      compilerOptions: { noEmit: true, typeRoots: [join(REPO_ROOT, 'node_modules', '@types')] },
      include: ['*.ts'],
    }
    await writeFile(join(BLOCKS_DIR, 'tsconfig.json'), JSON.stringify(tsconfig))
    const tsc = join(REPO_ROOT, 'node_modules', '.bin', 'tsc')
    const result = await run(tsc, ['-p', BLOCKS_DIR]).catch((err) => err)
    expect(result.stdout).toBe('')
  })

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
