/** `--workspace`: install the picostack packages of a local checkout instead of the registry. */
import { execFile } from 'node:child_process'
import { access, mkdir, readdir, readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { CreateError } from './errors.ts'

const run = promisify(execFile)

interface WorkspacePackage {
  dir: string
  name: string
  version: string
  /** The file its main export points at (`exports['.'].default`): exists once built. */
  main: string
  /** Names of the workspace packages it depends on. */
  workspaceDeps: string[]
}

async function readPackages(workspace: string): Promise<Map<string, WorkspacePackage>> {
  const packagesDir = join(workspace, 'packages')
  const dirs = await readdir(packagesDir).catch((cause) => {
    throw new CreateError('CREATE_WORKSPACE', `${workspace} has no packages/ folder`, { cause })
  })
  const packages = new Map<string, WorkspacePackage>()
  for (const dir of dirs) {
    const path = join(packagesDir, dir)
    const json = await readFile(join(path, 'package.json'), 'utf8').catch(() => undefined)
    if (!json) continue
    const pkg = JSON.parse(json)
    if (pkg.private) continue
    const deps: Record<string, string> = pkg.dependencies ?? {}
    packages.set(pkg.name, {
      dir: path,
      name: pkg.name,
      version: pkg.version,
      main: join(path, pkg.exports?.['.']?.default ?? pkg.main ?? 'index.js'),
      workspaceDeps: Object.keys(deps).filter((dep) => deps[dep]!.startsWith('workspace:')),
    })
  }
  if (!packages.has('@picostack/kernel')) {
    throw new CreateError('CREATE_WORKSPACE', `${workspace} is not a picostack checkout`)
  }
  return packages
}

/** The file name `pnpm pack` gives a package: `@picostack/feed` 0.1.0 -> `picostack-feed-0.1.0.tgz`. */
export function tarballName(name: string, version: string): string {
  return `${name.replace(/^@/, '').replace('/', '-')}-${version}.tgz`
}

/**
 * Packs (`pnpm pack`) the packages of the picostack checkout `workspace` that `wanted`
 * names, with the workspace packages they depend on, into `destDir`.
 * @param wanted - package names; those that are not in the workspace are skipped
 * @returns the tarball file names in `destDir`, by package name
 * @throws CREATE_WORKSPACE when `workspace` is not a picostack checkout, a package is not
 *   built (`pnpm build` there first), or `pnpm pack` fails
 */
export async function packWorkspace(
  workspace: string,
  destDir: string,
  wanted: readonly string[],
): Promise<Record<string, string>> {
  const root = resolve(workspace)
  const packages = await readPackages(root)
  const needed = new Set<string>()
  const visit = (name: string) => {
    const pkg = packages.get(name)
    if (!pkg || needed.has(name)) return
    needed.add(name)
    pkg.workspaceDeps.forEach(visit)
  }
  wanted.forEach(visit)

  await mkdir(destDir, { recursive: true })
  const packs: Record<string, string> = {}
  for (const name of [...needed].sort()) {
    const pkg = packages.get(name)!
    await access(pkg.main).catch((cause) => {
      throw new CreateError(
        'CREATE_WORKSPACE',
        `${name} is not built (${pkg.main} is missing); run \`pnpm build\` in ${root}`,
        { cause },
      )
    })
    await run('pnpm', ['pack', '--pack-destination', destDir], { cwd: pkg.dir }).catch((cause) => {
      throw new CreateError('CREATE_WORKSPACE', `pnpm pack failed in ${pkg.dir}`, { cause })
    })
    packs[name] = tarballName(name, pkg.version)
  }
  return packs
}
