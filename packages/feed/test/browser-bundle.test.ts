/**
 * The package bundles for browsers (esbuild, platform=browser) with no Node built-in
 * marked external, and the bundle, run where `process` does not exist, signs with the
 * portable noble backend and produces the same bytes as Node.
 */
import { fileURLToPath } from 'node:url'
import { runInNewContext } from 'node:vm'
import type { BuildOptions } from 'esbuild'
import { describe, expect, it } from 'vitest'
import { bundleForBrowser } from '../../../scripts/browser-bundle.ts'
import { Feed, toHex } from '../src/index.ts'

const entry = fileURLToPath(new URL('../src/index.ts', import.meta.url))

async function bundle(options: BuildOptions): Promise<string> {
  return (await bundleForBrowser(entry, options)).code
}

describe('browser bundle', () => {
  it('builds as ESM for platform=browser without importing Node built-ins', async () => {
    const code = await bundle({ format: 'esm' })
    expect(code).toContain('var Feed = class')
    expect(code).not.toContain('require("node:')
    expect(code).not.toContain('from "node:')
    expect(code).not.toMatch(/import\s*\(\s*["']node:/)
    expect(code).not.toMatch(/\brequire\(/)
  })

  it('picks noble where process is absent and writes the same bytes as Node', async () => {
    const code = await bundle({ format: 'iife', globalName: 'feedBundle' })
    const sk = '7e'.repeat(32)
    const bodies = ['first', 'second', 'third']
    // what every browser has; `process` deliberately not
    const sandbox: Record<string, unknown> = { crypto: globalThis.crypto, TextEncoder, TextDecoder }
    runInNewContext(
      `${code}
      const { Feed, activeEd25519, toHex, fromHex } = feedBundle
      const feed = new Feed()
      for (const hex of bodiesHex) feed.append(fromHex(hex), sk)
      globalThis.result = { backend: activeEd25519().name, hasProcess: typeof process, hex: toHex(feed.buffer) }`,
      Object.assign(sandbox, {
        sk,
        bodiesHex: bodies.map((b) => toHex(new TextEncoder().encode(b))),
      }),
    )
    const result = sandbox.result as { backend: string; hasProcess: string; hex: string }
    expect(result.hasProcess).toBe('undefined')
    expect(result.backend).toBe('noble')
    const inNode = new Feed()
    for (const body of bodies) inNode.append(body, sk)
    expect(result.hex).toBe(toHex(inNode.buffer))
  })
})
