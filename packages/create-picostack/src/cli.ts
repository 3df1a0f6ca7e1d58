#!/usr/bin/env node
/**
 * `npm create picostack <dir>` (or `create-picostack <dir>`): a new picostack app in `dir`.
 * Exit code 0 when created, 1 on any error (printed as `error <CODE>: <message>`).
 */
import { isAbsolute, relative, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { type CreatedApp, createApp } from './create.ts'
import { CreateError } from './errors.ts'
import {
  DEFAULT_TEMPLATE,
  TEMPLATE_CHOICES,
  type TemplateChoice,
  type TemplateName,
} from './template.ts'

const USAGE = `usage: create-picostack <dir> [--template ${TEMPLATE_CHOICES.join('|')}] [--name <package-name>] [--workspace <picostack checkout>]

Creates a picostack app in <dir>, a new or empty folder.

options:
  --template <name>     todo (default): a peer-to-peer to-do app (kernel, CLI, web page
                        in plain TypeScript, demo, tests); vanilla: the same as todo;
                        react: the to-do app with its web page in React (@picostack/react
                        hooks); minimal: one kernel file and one test
  --name <name>         the app's package name (default: the folder's name)
  --workspace <path>    install the picostack packages from a built local checkout
                        (packed into <dir>/packs) instead of the npm registry
  -h, --help            this text`

/**
 * The folder the user ran the command in. npm and npx run a package's bin in that folder,
 * but set INIT_CWD to it either way; a script runner that starts the bin elsewhere
 * (\`pnpm --filter create-picostack exec\`) leaves INIT_CWD unset or at the user's folder.
 */
function userCwd(): string {
  return process.env.INIT_CWD || process.cwd()
}

/** `dir` as the user would type it to get there from `cwd`: relative inside it, else absolute. */
function pathFrom(cwd: string, dir: string): string {
  const path = relative(cwd, dir)
  return path === '' ? '.' : path.startsWith('..') || isAbsolute(path) ? dir : path
}

const STEPS: Record<TemplateName, string> = {
  todo: `  npm test                        # its tests: rules, CLI, peers syncing on a local testnet
  npm run todo -- add buy milk    # a task, offline
  npm run todo -- list
  npm run demo                    # three peers syncing on a local testnet
  npm run testnet                 # a local HyperDHT testnet to serve your own peers on

The task rules are in src/kernel.ts (the Tasks collection's compute); the CLI
(src/commands.ts), the web page (web/src/main.ts) and the tests use it. README.md
explains the rules and which file does what. For a blank kernel of your own, create
another app with --template minimal.`,
  react: `  npm test                        # its tests: rules, CLI, peers syncing on a local testnet
  npm run relay -- --topic our-flat --port 8080
  npm run web                     # the React page: http://localhost:5173/?relay=ws://localhost:8080/
  npm run todo -- add buy milk    # a task, offline, from the CLI

The task rules are in src/kernel.ts (the Tasks collection's compute); the CLI
(src/commands.ts), the React page (web/src/App.tsx, through @picostack/react hooks) and
the tests use it. README.md explains the rules and which file does what.`,
  minimal: `  npm test                        # the kernel's rules, two peers syncing in memory

Your app is src/kernel.ts (what a valid block is, and the state it makes) and its test
is test/kernel.test.ts; README.md says where to go on from there.`,
}

function nextSteps(app: CreatedApp, cwd: string): string {
  const packs = Object.keys(app.packs).length
  return `Created ${app.name} in ${app.dir} (template ${app.template}${packs ? `, picostack from ${packs} local packs` : ''})

Next steps:
  cd ${pathFrom(cwd, app.dir)}
  npm install
${STEPS[app.template]}`
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = (() => {
    try {
      return parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
          template: { type: 'string', default: DEFAULT_TEMPLATE },
          name: { type: 'string' },
          workspace: { type: 'string' },
          help: { type: 'boolean', short: 'h', default: false },
        },
      })
    } catch (cause) {
      throw new CreateError('CREATE_INVALID_INPUT', (cause as Error).message, { cause })
    }
  })()
  if (values.help) {
    console.log(USAGE)
    return 0
  }
  const [dir, ...extra] = positionals
  if (!dir || extra.length) {
    throw new CreateError('CREATE_INVALID_INPUT', `expected one folder\n\n${USAGE}`)
  }
  const cwd = userCwd()
  const app = await createApp(resolve(cwd, dir), {
    name: values.name,
    template: values.template as TemplateChoice,
    workspace: values.workspace && resolve(cwd, values.workspace),
  })
  console.log(nextSteps(app, cwd))
  return 0
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err) => {
    const code = err instanceof CreateError ? err.code : 'CREATE_FAILED'
    console.error(`error ${code}: ${err instanceof Error ? err.message : String(err)}`)
    process.exitCode = 1
  },
)
