/**
 * `pnpm check:packages`: package hygiene of every public package, on what npm would get.
 *
 * Builds the packages (skip with `--no-build`), packs each with `pnpm pack`, and checks
 * the tarball with publint (`--strict`: warnings fail too) and @arethetypeswrong/cli
 * (`--profile esm-only`: the packages are ESM only, so CommonJS `require` is out of
 * scope), then the repository's own conventions: ESM, `sideEffects: false`, engines,
 * `files`, an exports map with types, metadata, and a README with install, usage, API
 * and errors sections. Exits 1 when anything fails, after checking everything.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)
const ROOT = join(import.meta.dirname, '..')
const BIN = join(ROOT, 'node_modules', '.bin')
const NODE_RANGE = '>=20.19'
const README_SECTIONS = ['## Install', '## Usage', '## API', '## Errors']

interface Manifest {
  name: string
  version: string
  private?: boolean
  type?: string
  sideEffects?: boolean
  engines?: { node?: string }
  files?: string[]
  license?: string
  description?: string
  keywords?: string[]
  exports?: Record<string, { types?: string; default?: string } | string>
}

/** The repository's conventions for a public package; returns what is wrong. */
function conventionProblems(pkg: Manifest, readme: string): string[] {
  const main = pkg.exports?.['.']
  const checks: [boolean, string][] = [
    [pkg.type === 'module', '"type" is not "module"'],
    [pkg.sideEffects === false, '"sideEffects" is not false'],
    [pkg.engines?.node === NODE_RANGE, `"engines.node" is not "${NODE_RANGE}"`],
    [!!pkg.files?.includes('dist'), '"files" does not list dist'],
    [pkg.license === 'MIT', '"license" is not MIT'],
    [!!pkg.description, 'no "description"'],
    [!!pkg.keywords?.length, 'no "keywords"'],
    [
      typeof main === 'object' && !!main.types && !!main.default,
      'exports["."] lacks types/default',
    ],
    [pkg.exports?.['./package.json'] === './package.json', 'exports lacks "./package.json"'],
    ...README_SECTIONS.map((s): [boolean, string] => [
      readme.includes(`\n${s}`),
      `README has no ${s}`,
    ]),
  ]
  return checks.filter(([ok]) => !ok).map(([, problem]) => problem)
}

/** Runs a tool; resolves with its output and whether it exited 0. */
async function tool(command: string, args: string[], cwd = ROOT) {
  try {
    const { stdout, stderr } = await run(command, args, { cwd, maxBuffer: 16 << 20 })
    return { ok: true, output: stdout + stderr }
  } catch (err) {
    const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string }
    return { ok: false, output: stdout + stderr }
  }
}

async function publicPackages(): Promise<{ dir: string; pkg: Manifest }[]> {
  const dirs = (await readdir(join(ROOT, 'packages'))).sort()
  const found = await Promise.all(
    dirs.map(async (name) => {
      const dir = join(ROOT, 'packages', name)
      const json = await readFile(join(dir, 'package.json'), 'utf8').catch(() => undefined)
      return json ? { dir, pkg: JSON.parse(json) as Manifest } : undefined
    }),
  )
  return found.filter((p): p is { dir: string; pkg: Manifest } => !!p && !p.pkg.private)
}

async function main(): Promise<number> {
  if (!process.argv.includes('--no-build')) {
    const build = await tool('pnpm', ['-r', '--filter', './packages/*', 'build'])
    if (!build.ok) {
      console.error(build.output)
      return 1
    }
  }
  const packDir = await mkdtemp(join(tmpdir(), 'check-packages-'))
  let failed = 0
  try {
    for (const { dir, pkg } of await publicPackages()) {
      const problems: string[] = []
      const readme = await readFile(join(dir, 'README.md'), 'utf8').catch(() => '')
      problems.push(...conventionProblems(pkg, readme))
      const pack = await tool('pnpm', ['pack', '--pack-destination', packDir], dir)
      const tarball = join(
        packDir,
        `${pkg.name.replace(/^@/, '').replace('/', '-')}-${pkg.version}.tgz`,
      )
      if (!pack.ok) problems.push(`pnpm pack failed:\n${pack.output}`)
      else {
        const publint = await tool(join(BIN, 'publint'), [tarball, '--strict'])
        if (!publint.ok) problems.push(`publint:\n${publint.output}`)
        const attw = await tool(join(BIN, 'attw'), [
          tarball,
          '--profile',
          'esm-only',
          '--format',
          'ascii',
        ])
        if (!attw.ok) problems.push(`attw:\n${attw.output}`)
      }
      console.log(`${problems.length ? 'FAIL' : 'ok  '} ${pkg.name}@${pkg.version}`)
      for (const problem of problems) console.log(`     ${problem.replaceAll('\n', '\n     ')}`)
      if (problems.length) failed++
    }
  } finally {
    await rm(packDir, { recursive: true, force: true })
  }
  console.log(failed ? `${failed} package(s) failed` : 'every public package passes')
  return failed ? 1 : 0
}

process.exitCode = await main()
