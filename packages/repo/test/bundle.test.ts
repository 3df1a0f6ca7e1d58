/**
 * The repo bundles for the browser (esbuild, platform browser: no Node built-ins), together
 * with memory-level, and the bundle works without Node Buffers.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { toHex } from '@picostack/feed'
import { build } from 'esbuild'
import { expect, it } from 'vitest'
import { bodies, chain, pair } from './helpers.ts'

const packageDir = fileURLToPath(new URL('..', import.meta.url))

it('bundles for the browser and runs from the bundle', async () => {
  const result = await build({
    stdin: {
      contents:
        "export { Repo } from '@picostack/repo'\nexport { MemoryLevel } from 'memory-level'",
      resolveDir: packageDir,
      loader: 'ts',
    },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    conditions: ['@picostack/source'],
    logLevel: 'silent',
  })
  expect(result.errors).toEqual([])
  const inputs = Object.keys(result.metafile.inputs)
  expect(inputs.filter((path) => path.startsWith('node:'))).toEqual([])
  expect(inputs.some((path) => path.endsWith('repo/src/repo.ts'))).toBe(true)

  const dir = join(packageDir, 'node_modules', '.cache')
  mkdirSync(dir, { recursive: true })
  const file = join(dir, 'repo-browser-bundle.mjs')
  writeFileSync(file, result.outputFiles[0]!.text)
  const bundled = await import(pathToFileURL(file).href)
  const repo = new bundled.Repo(new bundled.MemoryLevel({ storeEncoding: 'view' }))
  const feed = chain('alice', bodies('a', 3))
  expect(await repo.merge(feed.buffer)).toBe(3)
  expect(toHex((await repo.loadHead(pair('alice').pk)).buffer)).toBe(toHex(feed.buffer))
  await repo.close()
})
