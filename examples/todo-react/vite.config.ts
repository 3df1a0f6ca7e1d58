import { defaultClientConditions, defineConfig } from 'vite'

export default defineConfig({
  // The workspace packages' TypeScript sources (their export condition), as the tests do.
  resolve: { conditions: ['@picostack/source', ...defaultClientConditions] },
  // React's automatic JSX runtime, compiled by Vite's own transformer (no plugin needed).
  oxc: { jsx: { runtime: 'automatic', importSource: 'react' } },
  build: { target: 'es2022' },
})
