import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { describe, expect, it } from 'vitest'

describe('browser bundle', () => {
  it('bundles the main entry for the browser with no Node built-ins', async () => {
    const entry = fileURLToPath(new URL('../src/index.ts', import.meta.url))
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    })
    expect(result.errors).toEqual([])
    const inputs = Object.keys(result.metafile.inputs)
    expect(
      inputs.every((path) => path.startsWith('src/') || path.includes('packages/net/src/')),
    ).toBe(true)
    const code = result.outputFiles[0]!.text
    expect(code).not.toMatch(/\bBuffer\b|from ["']node:|require\(/)
  })
})
