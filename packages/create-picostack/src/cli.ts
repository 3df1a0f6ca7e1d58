#!/usr/bin/env node
/**
 * `npm create picostack <dir>` (or `create-picostack <dir>`): a new picostack app in `dir`.
 * Exit code 0 when created, 1 on any error (printed as `error <CODE>: <message>`).
 */
import { relative } from 'node:path'
import { parseArgs } from 'node:util'
import { type CreatedApp, createApp } from './create.ts'
import { CreateError } from './errors.ts'

const USAGE = `usage: create-picostack <dir> [--name <package-name>] [--workspace <picostack checkout>]

Creates a peer-to-peer to-do app (kernel, CLI, tests) in <dir>, a new or empty folder.

options:
  --name <name>         the app's package name (default: the folder's name)
  --workspace <path>    install the picostack packages from a built local checkout
                        (packed into <dir>/packs) instead of the npm registry
  -h, --help            this text`

function nextSteps(app: CreatedApp): string {
  const cd = relative(process.cwd(), app.dir) || '.'
  return `Created ${app.name} in ${app.dir}${Object.keys(app.packs).length ? ` (picostack from ${Object.keys(app.packs).length} local packs)` : ''}

Next steps:
  cd ${cd}
  npm install
  npm test                        # its tests: rules, CLI, peers syncing on a local testnet
  npm run todo -- add buy milk    # a task, offline
  npm run todo -- list
  npm run demo                    # three peers syncing on a local testnet

Edit src/kernel.ts to make it your app; README.md explains the rules it enforces.`
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = (() => {
    try {
      return parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
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
  const app = await createApp(dir, { name: values.name, workspace: values.workspace })
  console.log(nextSteps(app))
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
