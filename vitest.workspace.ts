import { existsSync, readdirSync } from 'node:fs'
import { defineProject } from 'vitest/config'

/** Export condition that points each workspace package at its TypeScript source. */
export const SOURCE_CONDITION = '@picostack/source'

/** Workspace folders whose `test/` directories vitest runs, one project each. */
const roots = ['packages', 'examples'].flatMap((dir) =>
  existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true })
        .filter((d) => d.isDirectory() && existsSync(`${dir}/${d.name}/test`))
        .map((d) => `${dir}/${d.name}`)
    : [],
)

/** One vitest project per package, resolving sibling packages to their source. */
export default roots.map((root) =>
  defineProject({
    root,
    resolve: { conditions: [SOURCE_CONDITION] },
    ssr: { resolve: { conditions: [SOURCE_CONDITION] } },
    test: {
      name: root.split('/')[1],
      include: ['test/**/*.test.ts'],
      environment: 'node',
      testTimeout: 30_000,
      hookTimeout: 30_000,
    },
  }),
)
