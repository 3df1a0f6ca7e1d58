import { builtinModules } from 'node:module'
import { defaultClientConditions, defineConfig, type Plugin } from 'vite'

/**
 * npm packages named like a Node built-in that dependencies import and the bundle may
 * contain: `events` (abstract-level's EventEmitter; picostack declares events@3) and
 * `buffer` (level-transcoder declares buffer@6; unused with the 'view' encodings).
 */
const ALLOWED_NAMESAKES = new Set(['events', 'buffer'])

/**
 * Fails the build when anything imports a Node built-in, instead of letting Vite stub it
 * (`__vite-browser-external`) or a polyfill plugin stand in. The only exception: a
 * package in node_modules importing a namesake in ALLOWED_NAMESAKES that resolves to that
 * npm package itself. Our own code imports no such name at all.
 */
function noNodeBuiltins(): Plugin {
  const builtins = new Set(builtinModules)
  return {
    name: 'no-node-builtins',
    enforce: 'pre',
    async resolveId(source, importer) {
      const name = source.replace(/^node:/, '').split('/')[0]!
      if (!builtins.has(name)) return null
      if (source === name && ALLOWED_NAMESAKES.has(name) && importer?.includes('/node_modules/')) {
        const resolved = await this.resolve(source, importer, { skipSelf: true })
        if (resolved?.id.includes(`/node_modules/${name}/`)) return resolved
      }
      this.error(`${importer ?? 'the entry'} imports the Node built-in "${source}"`)
    },
  }
}

export default defineConfig({
  // The workspace packages' TypeScript sources (their export condition), as the tests do.
  resolve: { conditions: ['@picostack/source', ...defaultClientConditions] },
  plugins: [noNodeBuiltins()],
  build: { target: 'es2022' },
})
