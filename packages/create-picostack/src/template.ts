/** Where the bundled templates live, which there are, and what an app is called before it is renamed. */
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The package name inside each template; `createApp` replaces it with the app's name. */
export const TEMPLATE_NAME = 'picostack-app'

/**
 * The templates an app can start from (each built into its own folder):
 * - `todo`: the peer-to-peer to-do app (`examples/todo` and `examples/todo-web`): kernel,
 *   CLI, web page in plain TypeScript (no framework), three-peer demo, local testnet, and
 *   their tests.
 * - `react`: the same app with the web page in React (`examples/todo` and
 *   `examples/todo-react`): the page renders through `@picostack/react` hooks.
 * - `minimal`: one kernel file and one test (`examples/chat`, the getting-started guide's
 *   chat kernel).
 */
export const TEMPLATE_NAMES = ['todo', 'react', 'minimal'] as const

/** One of {@link TEMPLATE_NAMES}. */
export type TemplateName = (typeof TEMPLATE_NAMES)[number]

/**
 * Other names for templates: `vanilla` is `todo` (its web page uses no framework), the
 * counterpart of `react`.
 */
export const TEMPLATE_ALIASES = {
  /** `todo`: its web page uses no framework. */
  vanilla: 'todo',
} as const satisfies Record<string, TemplateName>

/** What `--template` accepts: one of {@link TEMPLATE_NAMES} or of {@link TEMPLATE_ALIASES}. */
export type TemplateChoice = TemplateName | keyof typeof TEMPLATE_ALIASES

/** Every name `--template` accepts, templates first, then aliases. */
export const TEMPLATE_CHOICES: readonly TemplateChoice[] = [
  ...TEMPLATE_NAMES,
  ...(Object.keys(TEMPLATE_ALIASES) as (keyof typeof TEMPLATE_ALIASES)[]),
]

/**
 * The template a choice names (an alias resolves to its template).
 * @returns undefined when `choice` is neither a template nor an alias
 */
export function resolveTemplate(choice: string): TemplateName | undefined {
  if ((TEMPLATE_NAMES as readonly string[]).includes(choice)) return choice as TemplateName
  return Object.hasOwn(TEMPLATE_ALIASES, choice)
    ? TEMPLATE_ALIASES[choice as keyof typeof TEMPLATE_ALIASES]
    : undefined
}

/** The template `create-picostack` uses unless told otherwise. */
export const DEFAULT_TEMPLATE: TemplateName = 'todo'

/** This package's folder (the sources in `src/` and the build in `dist/` sit one below it). */
export const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..')

/** The bundled templates, one folder each, written by `build` (`src/build-template.ts`) and shipped in the package. */
export const TEMPLATES_DIR = join(PACKAGE_DIR, 'templates')

/** The folder of the bundled template `name`. */
export function templateDir(name: TemplateName): string {
  return join(TEMPLATES_DIR, name)
}

/**
 * The text of a template's README that names where picostack's guides are; with
 * `--workspace`, `createApp` replaces it with the checkout's own `docs/` folder.
 */
export const DOCS_PLACEHOLDER = 'the `docs/` folder of the picostack repository'
