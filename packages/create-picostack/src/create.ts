/** Scaffolding: copy the bundled template into a new folder and make it the app's own. */
import { cp, mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises'
import { basename, join, resolve } from 'node:path'
import { CreateError } from './errors.ts'
import {
  DEFAULT_TEMPLATE,
  DOCS_PLACEHOLDER,
  resolveTemplate,
  TEMPLATE_CHOICES,
  TEMPLATE_NAME,
  type TemplateChoice,
  type TemplateName,
  templateDir,
} from './template.ts'
import { packWorkspace } from './workspace.ts'

/** Options of {@link createApp}. */
export interface CreateOptions {
  /** The app's npm package name. Default: the folder's name. */
  name?: string
  /**
   * A picostack checkout (built with `pnpm build`) to install the picostack packages from
   * instead of the npm registry: each is packed into `<app>/packs/` and the app depends on
   * the tarballs (`file:` dependencies and dev dependencies, plus `overrides` for the ones
   * it gets indirectly).
   */
  workspace?: string
  /**
   * Which bundled template: `todo` (default; alias `vanilla`): the to-do app with a plain
   * TypeScript web page; `react`: the same app with a React page; `minimal`: one kernel and
   * one test.
   */
  template?: TemplateChoice
  /** The template folder to copy. Default: the bundled one that `template` names. */
  templateDir?: string
}

/** What {@link createApp} made. */
export interface CreatedApp {
  /** Absolute path of the new app. */
  dir: string
  /** Its package name. */
  name: string
  /** The template it was made from (an alias such as `vanilla` resolved: `todo`). */
  template: TemplateName
  /** The picostack tarballs it installs, by package name (only with `workspace`). */
  packs: Record<string, string>
}

/** npm's rules for a package name (lower case, URL-safe, optional scope, at most 214 characters). */
const NPM_NAME = /^(?:@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/

/**
 * The name is valid for npm.
 * @throws CREATE_INVALID_NAME otherwise
 */
export function checkPackageName(name: string): string {
  if (name.length > 214 || !NPM_NAME.test(name)) {
    throw new CreateError(
      'CREATE_INVALID_NAME',
      `"${name}" is not a valid npm package name (lower case letters, digits, - . _ ~; pass --name)`,
    )
  }
  return name
}

/**
 * Makes sure `dir` does not exist or is an empty folder.
 * @throws CREATE_NOT_EMPTY otherwise
 */
async function checkTarget(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => undefined)
  if (!info) return
  const entries = info.isDirectory() ? await readdir(dir) : undefined
  if (entries?.length === 0) return
  const what = entries ? `holds ${entries.length} entries` : 'is a file'
  throw new CreateError(
    'CREATE_NOT_EMPTY',
    `${dir} ${what}; create-picostack only writes into a new or empty folder`,
  )
}

/**
 * Creates a picostack app from a template (the to-do app; with `template: 'react'` the same
 * app with a React web page; with `template: 'minimal'` one kernel file and one test) in `dir`, which must not exist or be empty. Installs nothing:
 * run `npm install` in it next.
 * @throws CREATE_NOT_EMPTY when `dir` holds anything (nothing is written)
 * @throws CREATE_INVALID_NAME when the name is not a valid npm name
 * @throws CREATE_INVALID_INPUT when `template` is not one of {@link TEMPLATE_CHOICES}
 * @throws CREATE_NO_TEMPLATE when the template is missing (a checkout that was not built)
 * @throws CREATE_WORKSPACE when `workspace` is not a built picostack checkout
 */
export async function createApp(dir: string, options: CreateOptions = {}): Promise<CreatedApp> {
  const target = resolve(dir)
  const name = checkPackageName(options.name ?? basename(target))
  const choice = options.template ?? DEFAULT_TEMPLATE
  const template = resolveTemplate(choice)
  if (!template) {
    throw new CreateError(
      'CREATE_INVALID_INPUT',
      `no template "${choice}"; the templates are ${TEMPLATE_CHOICES.join(', ')}`,
    )
  }
  const source = options.templateDir ?? templateDir(template)
  await checkTarget(target)
  const templateJson = await readFile(join(source, 'package.json'), 'utf8').catch((cause) => {
    throw new CreateError(
      'CREATE_NO_TEMPLATE',
      `no template in ${source}; run \`pnpm --filter create-picostack build\` first`,
      { cause },
    )
  })

  await mkdir(target, { recursive: true })
  await cp(source, target, { recursive: true })
  await rename(join(target, 'gitignore'), join(target, '.gitignore'))
  const pkg = JSON.parse(templateJson)
  pkg.name = name
  const readme = join(target, 'README.md')
  const docs = options.workspace && `\`${join(resolve(options.workspace), 'docs')}/\``
  await writeFile(
    readme,
    (await readFile(readme, 'utf8'))
      .replace(`# ${TEMPLATE_NAME}`, `# ${name}`)
      .replace(DOCS_PLACEHOLDER, docs || DOCS_PLACEHOLDER),
  )

  const direct: Record<string, string>[] = [pkg.dependencies ?? {}, pkg.devDependencies ?? {}]
  const wanted = direct.flatMap((deps) => Object.keys(deps))
  const packs = options.workspace
    ? await packWorkspace(options.workspace, join(target, 'packs'), wanted)
    : {}
  const spec = (name: string) => `file:packs/${packs[name]}`
  for (const deps of direct) {
    for (const dep of Object.keys(deps)) if (packs[dep]) deps[dep] = spec(dep)
  }
  const indirect = Object.keys(packs).filter((dep) => !wanted.includes(dep))
  if (indirect.length) pkg.overrides = Object.fromEntries(indirect.map((dep) => [dep, spec(dep)]))
  await writeFile(join(target, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`)
  return { dir: target, name, template, packs }
}
