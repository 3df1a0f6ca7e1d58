/**
 * What it must show, items 1 and 2: the built page in real Chromium. A local HyperDHT
 * testnet, a relay on it (WebSocket on 127.0.0.1), a CLI-side TodoKernel on the swarm,
 * and two pages in separate browser contexts (separate IndexedDB): tasks flow between
 * all three both ways; page 1 reloads offline and still lists its tasks (IndexedDB),
 * then resyncs what it missed. The bundle has no Node built-in.
 */
import { mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { Modem56 } from '@picostack/modem'
import type { Relay } from '@picostack/relay'
import type { Testnet } from 'hyperdht/testnet.js'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { TodoKernel } from 'todo'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from '../../../scripts/chromium.ts'
import { until } from '../../todo/test/until.ts'
import { type BuiltApp, serveBuilt } from './built-app.ts'
import { localRelay } from './local-relay.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const artifacts = join(root, 'test-artifacts')
const TOPIC = 'todo-web-test'

describe('todo-web in Chromium', () => {
  let app: BuiltApp
  let testnet: Testnet
  let relay: Relay
  let cli: { kernel: TodoKernel; modem: Modem56 }
  let browser: Browser
  const contexts: BrowserContext[] = []
  const pageErrors: string[] = []

  beforeAll(async () => {
    app = await serveBuilt(root, 'todo-web-dist-')
    ;({ testnet, relay } = await localRelay(TOPIC))
    const kernel = new TodoKernel(undefined, { snapshot: true }) // list() reads it
    await kernel.boot()
    const modem = new Modem56({ bootstrap: testnet.bootstrap, host: '127.0.0.1' })
    expect(modem.swarm.dht.bootstrapNodes.every((node) => node.host === '127.0.0.1')).toBe(true)
    await modem.join(TOPIC, ({ address }) => kernel.spawnWire({ address }))
    cli = { kernel, modem }
    browser = await launchChromium()
  }, 60_000)

  afterAll(async () => {
    for (const context of contexts) await context.close()
    await browser?.close()
    await relay?.close()
    await cli?.modem.destroy()
    await cli?.kernel.close()
    await testnet?.destroy()
    await app?.close()
  })

  const pageUrl = (relayUrl: string) => `${app.url}?relay=${encodeURIComponent(relayUrl)}`

  async function openPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 720, height: 560 } })
    contexts.push(context)
    const page = await context.newPage()
    page.on('pageerror', (err) => pageErrors.push(err.message))
    await page.goto(pageUrl(relay.url))
    await page.locator('#status[data-status="online"]').waitFor()
    return page
  }

  const task = (page: Page, title: string) => page.locator(`li[data-title="${title}"]`)
  const cliTitles = () => cli.kernel.list().map((t) => t.title)

  async function add(page: Page, title: string) {
    await page.locator('#title').fill(title)
    await page.locator('#title').press('Enter')
    await task(page, title).waitFor()
  }

  it('bundles with no Node built-in: only npm namesakes that dependencies declare', () => {
    const ids = app.chunks.flatMap((chunk) => chunk.moduleIds)
    expect(ids.some((id) => id.includes('browser-level'))).toBe(true) // IndexedDB
    expect(ids.filter((id) => /classic-level|__vite-browser-external|node:/.test(id))).toEqual([])
    const namesakes = new Set(
      ids.flatMap(
        (id) => /\/node_modules\/(events|buffer|util|process|stream)\//.exec(id)?.[1] ?? [],
      ),
    )
    expect([...namesakes].sort()).toEqual(['buffer', 'events'])
    const code = app.chunks.map((chunk) => chunk.code).join('\n')
    const bytes = Buffer.byteLength(code)
    const gzip = gzipSync(code).length
    console.log(
      `todo-web bundle: ${(bytes / 1024).toFixed(1)} KiB minified, ${(gzip / 1024).toFixed(1)} KiB gzip`,
    )
    expect(gzip).toBeLessThan(110 * 1024) // budget: see README
  })

  it('syncs tasks page <-> page <-> CLI peer; a reloaded page keeps its tasks and resyncs', async () => {
    const page1 = await openPage()
    const page2 = await openPage()
    await until(() => relay.kernel.peers.length === 3) // two pages and the CLI peer

    await add(page1, 'buy milk')
    await task(page2, 'buy milk').waitFor()
    await until(() => cliTitles().includes('buy milk'))

    await cli.kernel.addTask('water the plants')
    await task(page1, 'water the plants').waitFor()
    await task(page2, 'water the plants').waitFor()

    await add(page2, 'pay rent')
    await task(page1, 'pay rent').waitFor()
    await until(() => cliTitles().includes('pay rent'))

    await task(page1, 'buy milk').locator('input[type=checkbox]').check()
    await page2.locator('li[data-title="buy milk"][data-status="done"]').waitFor()
    await until(() => cli.kernel.list().find((t) => t.title === 'buy milk')?.status === 'done')
    // Page 2 may not change page 1's task: its checkbox is disabled.
    expect(await task(page2, 'buy milk').locator('input').isDisabled()).toBe(true)

    // Reload page 1 pointing at no relay: its tasks come from IndexedDB alone.
    const pk = await page1.locator('#pk').getAttribute('data-pk')
    await page1.goto(pageUrl('ws://127.0.0.1:9/'))
    await task(page1, 'pay rent').waitFor()
    expect(await page1.locator('#tasks li').count()).toBe(3)
    expect(await page1.locator('#pk').getAttribute('data-pk')).toBe(pk) // same identity
    expect(await page1.locator('#status').getAttribute('data-status')).not.toBe('online')
    await page1.locator('li[data-title="buy milk"][data-status="done"]').waitFor()

    // Meanwhile the others go on; page 1 back online catches up.
    await cli.kernel.addTask('call the landlord')
    await add(page2, 'fix the bike')
    await page1.reload() // still offline: nothing new
    await task(page1, 'buy milk').waitFor()
    expect(await page1.locator('#tasks li').count()).toBe(3)
    await page1.goto(pageUrl(relay.url))
    await page1.locator('#status[data-status="online"]').waitFor()
    await task(page1, 'call the landlord').waitFor()
    await task(page1, 'fix the bike').waitFor()
    expect(await page1.locator('#tasks li').count()).toBe(5)
    expect(await page2.locator('#tasks li').count()).toBe(5)
    await until(() => cli.kernel.list().length === 5)

    mkdirSync(artifacts, { recursive: true })
    await page1.screenshot({ path: join(artifacts, 'todo-web-page1.png'), fullPage: true })
    await page2.screenshot({ path: join(artifacts, 'todo-web-page2.png'), fullPage: true })
    expect(pageErrors).toEqual([])
  }, 60_000)
})
