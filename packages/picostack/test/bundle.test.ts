import { fileURLToPath } from 'node:url'
import { expect, test } from 'vitest'
import { bundleForBrowser } from '../../../scripts/browser-bundle.ts'

test('the main entry bundles for the browser with no Node built-ins', async () => {
  const { code, inputs } = await bundleForBrowser(
    fileURLToPath(new URL('../src/index.ts', import.meta.url)),
  )
  expect(inputs.some((path) => path.includes('browser-level'))).toBe(true) // `level` in browsers
  expect(inputs.some((path) => path.includes('classic-level'))).toBe(false)
  expect(code).not.toMatch(/from ["']node:|require\(["']node:/)
})
