import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { expect, test } from 'vitest'

test('the main entry bundles for the browser with no Node built-ins', async () => {
  const entry = fileURLToPath(new URL('../src/index.ts', import.meta.url))
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
    conditions: ['@picostack/source'],
  })
  expect(result.errors).toEqual([])
  const inputs = Object.keys(result.metafile.inputs)
  expect(inputs.some((path) => path.includes('browser-level'))).toBe(true) // `level` in browsers
  expect(inputs.some((path) => path.includes('classic-level'))).toBe(false)
  const code = result.outputFiles[0]!.text
  expect(code).not.toMatch(/from ["']node:|require\(["']node:/)
})
