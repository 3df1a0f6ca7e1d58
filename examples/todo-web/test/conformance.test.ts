/**
 * What it must show, item 3: the repo conformance suite (packages/repo/test/conformance.ts
 * and its sections in conformance/, imported as they are) passes against browser-level inside Chromium. The suite is bundled
 * with esbuild, `vitest` swapped for a small harness that provides vitest's own `expect`,
 * served on 127.0.0.1 (IndexedDB needs an origin), and its pass count reported back here.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { launchChromium } from '../../../scripts/chromium.ts'
import type { RunResult } from './browser/harness.ts'

const here = dirname(fileURLToPath(import.meta.url))
/** The suite's section files (packages/repo/test/conformance.ts registers them all). */
const repoSuite = join(here, '../../../packages/repo/test/conformance')

let server: Server
let browser: Browser
let bundle: string

beforeAll(async () => {
  const result = await build({
    entryPoints: [join(here, 'browser/conformance-entry.ts')],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
    conditions: ['@picostack/source'],
    plugins: [
      {
        name: 'vitest-to-harness',
        setup(on) {
          on.onResolve({ filter: /^vitest$/ }, () => ({ path: join(here, 'browser/harness.ts') }))
        },
      },
    ],
  })
  bundle = result.outputFiles[0]!.text
  server = createServer((req, res) => {
    if (req.url === '/suite.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' })
      res.end(bundle)
      return
    }
    res.writeHead(200, { 'content-type': 'text/html' })
    res.end('<!doctype html><script type="module" src="/suite.js"></script>')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  browser = await launchChromium()
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await new Promise((resolve) => server?.close(resolve))
})

it('the repo conformance suite passes against browser-level in Chromium', async () => {
  const page = await browser.newPage()
  const pageErrors: string[] = []
  page.on('pageerror', (err) => pageErrors.push(err.message))
  await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)
  await page.waitForFunction(() => typeof window.runConformance === 'function')
  const result: RunResult = await page.evaluate(() => window.runConformance())
  console.log(
    `repo conformance in Chromium (browser-level): ${result.passed} passed, ${result.failed.length} failed`,
  )
  expect(result.failed).toEqual([])
  expect(pageErrors).toEqual([])
  // Every `it(` in the suite ran (none was lost by the harness).
  const { readdir, readFile } = await import('node:fs/promises')
  let declared = 0
  for (const file of await readdir(repoSuite)) {
    declared += (await readFile(join(repoSuite, file), 'utf8')).match(/^\s*it\(/gm)?.length ?? 0
  }
  expect(result.passed).toBe(declared)
}, 60_000)
