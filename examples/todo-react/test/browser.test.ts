/**
 * The React hooks in real Chromium (issue 18, item 2): the built page served on
 * 127.0.0.1; two pages sync through a local relay (on a local HyperDHT testnet) and both
 * re-render; a 10,000-task collection renders its first page and scrolls by pages without
 * rendering all tasks. Prints the bundle size (the README quotes it).
 */
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import type { Relay } from '@picostack/relay'
import type { Testnet } from 'hyperdht/testnet.js'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from '../../../scripts/chromium.ts'
import { until } from '../../todo/test/until.ts'
import { type BuiltApp, serveBuilt } from '../../todo-web/test/built-app.ts'
import { localRelay } from '../../todo-web/test/local-relay.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const TOPIC = 'todo-react-test'
/** Tasks in the large collection, and the page size of the list (src/App.tsx). */
const LARGE = Number(process.env.TODO_REACT_TASKS ?? 10_000)
const PAGE_SIZE = 50

describe('todo-react in Chromium', () => {
  let app: BuiltApp
  let testnet: Testnet
  let relay: Relay
  let browser: Browser
  const pageErrors: string[] = []

  beforeAll(async () => {
    // Vitest sets NODE_ENV=test, which would bundle React's development build.
    app = await serveBuilt(root, 'todo-react-dist-', 'production')
    ;({ testnet, relay } = await localRelay(TOPIC))
    browser = await launchChromium()
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await relay?.close()
    await testnet?.destroy()
    await app?.close()
  })

  async function openPage(query: Record<string, string>): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 720, height: 560 } })
    const page = await context.newPage()
    page.on('pageerror', (err) => pageErrors.push(err.message))
    await page.goto(`${app.url}?${new URLSearchParams(query)}`)
    await page.locator('body[data-ready="true"], body[data-error]').waitFor({ timeout: 170_000 })
    expect(await page.locator('body').getAttribute('data-error')).toBeNull()
    return page
  }

  const task = (page: Page, title: string) => page.locator(`li[data-title="${title}"]`)

  it('prints the bundle size; the bundle holds React and no Node built-in', () => {
    const ids = app.chunks.flatMap((chunk) => chunk.moduleIds)
    expect(ids.some((id) => id.includes('/react-dom/'))).toBe(true)
    expect(ids.filter((id) => /classic-level|__vite-browser-external|node:/.test(id))).toEqual([])
    const code = app.chunks.map((chunk) => chunk.code).join('\n')
    const gzip = gzipSync(code).length
    console.log(
      `todo-react bundle: ${(Buffer.byteLength(code) / 1024).toFixed(1)} KiB minified, ${(gzip / 1024).toFixed(1)} KiB gzip`,
    )
    expect(gzip).toBeLessThan(172 * 1024) // budget: see README
  })

  it('two pages sync a task through the relay and both re-render', async () => {
    const [page1, page2] = await Promise.all([
      openPage({ relay: relay.url, db: 'memory' }),
      openPage({ relay: relay.url, db: 'memory' }),
    ])
    for (const page of [page1, page2]) await page.locator('#status[data-status="online"]').waitFor()
    await until(() => relay.kernel.peers.length === 2)
    await page1.locator('#title').fill('buy milk')
    await page1.locator('#title').press('Enter')
    await task(page1, 'buy milk').waitFor()
    await task(page2, 'buy milk').waitFor()
    await page2.locator('#title').fill('pay rent')
    await page2.locator('#title').press('Enter')
    await task(page1, 'pay rent').waitFor()
    // A change re-renders the task in place on both pages (its owner may change it).
    await task(page1, 'buy milk').locator('input[type=checkbox]').check()
    await page1.locator('li[data-title="buy milk"][data-status="done"]').waitFor()
    await page2.locator('li[data-title="buy milk"][data-status="done"]').waitFor()
    expect(await task(page2, 'buy milk').locator('input').isDisabled()).toBe(true)
    for (const page of [page1, page2])
      expect(await page.locator('#tasks li[data-task-id]').count()).toBe(2)
    expect(pageErrors).toEqual([])
  }, 60_000)

  it(`a ${LARGE.toLocaleString('en')}-task collection renders its first page and scrolls by pages`, async () => {
    const started = Date.now()
    const page = await openPage({ relay: 'ws://127.0.0.1:9/', db: 'memory', seed: String(LARGE) })
    console.log(`seeded ${LARGE} tasks in the page in ${Date.now() - started} ms`)
    const rendered = () => page.locator('#tasks li[data-task-id]').count()
    await page.locator(`#tasks[data-rendered="${PAGE_SIZE}"]`).waitFor()
    expect(await rendered()).toBe(PAGE_SIZE)
    expect(await page.locator('#tasks li[data-task-id]').first().getAttribute('data-title')).toBe(
      'seeded task 0',
    )
    for (let pages = 2; pages <= 4; pages++) {
      await page.locator('#more').scrollIntoViewIfNeeded()
      await page.locator(`#tasks[data-rendered="${pages * PAGE_SIZE}"]`).waitFor()
      expect(await rendered()).toBe(pages * PAGE_SIZE)
    }
    expect(await page.locator('#tasks li[data-task-id]').last().getAttribute('data-title')).toBe(
      `seeded task ${4 * PAGE_SIZE - 1}`,
    )
    expect(await page.locator('#tasks').getAttribute('data-done')).toBe('false')
    expect(pageErrors).toEqual([])
  }, 200_000)
})
