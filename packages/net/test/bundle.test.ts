import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { bundleForBrowser } from '../../../scripts/browser-bundle.ts'

describe('browser bundle', () => {
  it('bundles the main entry for the browser with no Node built-ins', async () => {
    const { code, inputs } = await bundleForBrowser(
      fileURLToPath(new URL('../src/index.ts', import.meta.url)),
    )
    expect(
      inputs.every((path) => path.startsWith('src/') || path.includes('packages/net/src/')),
    ).toBe(true)
    expect(code).not.toMatch(/\bBuffer\b|from ["']node:|require\(/)
  })
})
