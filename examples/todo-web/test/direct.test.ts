/**
 * Issue 16, point 1: direct WebRTC links in real Chromium. A relay process (the
 * `picostack-relay` bin, WebSocket on 127.0.0.1, its swarm side on a local HyperDHT
 * testnet), a Node peer (TodoKernel over node-datachannel, joined to the relay by
 * WebSocket) and two pages meet at the relay, are introduced and open direct links
 * (page <-> page, page <-> Node). A firewalled Node peer (no ICE candidate either way)
 * joins as well: each page shows its link as failed, with the code, and its task comes
 * through the relay. Then the relay process is stopped, and the two pages still sync new
 * tasks both ways, and the Node peer with them.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type KernelOptions, wsWire } from '@picostack/kernel'
import createTestnet, { type Testnet } from 'hyperdht/testnet.js'
import { RTCPeerConnection } from 'node-datachannel/polyfill'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { TodoKernel } from 'todo'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { firewalled } from '../../../packages/net/test/rtc-firewall.ts'
import { LOOPBACK_WEBRTC_FLAGS, launchChromium } from '../../../scripts/chromium.ts'
import { until } from '../../todo/test/until.ts'
import { type BuiltApp, serveBuilt } from './built-app.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const RELAY_BIN = join(root, '../../packages/relay/src/bin/relay.ts')
const TOPIC = 'todo-web-direct-test'

/** Starts the relay bin as its own process; resolves with its WebSocket URL. */
async function startRelayProcess(bootstrap: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--conditions=@picostack/source',
      RELAY_BIN,
      ...['--topic', TOPIC, '--port', '0', '--host', '127.0.0.1', '--bootstrap', bootstrap],
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let output = ''
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`relay did not start: ${output}`)), 30_000)
    const read = (chunk: Buffer) => {
      output += chunk.toString()
      const match = /on (ws:\/\/\S+\/)/.exec(output)
      if (match) {
        clearTimeout(timer)
        resolve(match[1]!)
      }
    }
    child.stdout!.on('data', read)
    child.stderr!.on('data', read)
    child.once('exit', (code) => reject(new Error(`relay exited (${code}): ${output}`)))
  })
  return { child, url }
}

describe('todo-web direct links in Chromium', () => {
  let app: BuiltApp
  let testnet: Testnet
  let relay: { child: ChildProcess; url: string }
  let node: TodoKernel
  let walled: TodoKernel | undefined
  let browser: Browser
  const contexts: BrowserContext[] = []
  const pageErrors: string[] = []

  beforeAll(async () => {
    app = await serveBuilt(root, 'todo-web-direct-')
    testnet = await createTestnet(3)
    const { host, port } = testnet.bootstrap[0]!
    expect(host).toBe('127.0.0.1')
    relay = await startRelayProcess(`${host}:${port}`)
    node = await nodePeer({ RTCPeerConnection, rtcConfiguration: { bindAddress: '127.0.0.1' } })
    browser = await launchChromium(LOOPBACK_WEBRTC_FLAGS)
  }, 90_000)

  afterAll(async () => {
    for (const context of contexts) await context.close()
    await browser?.close()
    await node?.close()
    await walled?.close()
    if (relay && relay.child.exitCode === null) {
      relay.child.kill('SIGKILL')
      await once(relay.child, 'exit')
    }
    await testnet?.destroy()
    await app?.close()
  })

  /** A Node TodoKernel (with the in-memory snapshot: `list()`) joined to the relay by WebSocket. */
  async function nodePeer(signal: KernelOptions['signal']) {
    const kernel = new TodoKernel(undefined, { signal, snapshot: true }) // list() reads it
    await kernel.boot()
    const socket = new WebSocket(relay.url)
    socket.on('error', () => {})
    wsWire(kernel.spawnWire(), socket)
    return kernel
  }

  async function openPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 720, height: 560 } })
    contexts.push(context)
    const page = await context.newPage()
    page.on('pageerror', (err) => pageErrors.push(err.message))
    await page.goto(`${app.url}?relay=${encodeURIComponent(relay.url)}`)
    await page.locator('#status[data-status="online"]').waitFor()
    return page
  }

  const task = (page: Page, title: string) => page.locator(`li[data-title="${title}"]`)
  const nodeTitles = () => node.list().map((t) => t.title)
  const nodeId = (kernel: TodoKernel) => Buffer.from(kernel.nodeId).toString('hex')
  const directIds = async (page: Page) =>
    (await page
      .locator('#links li[data-link="direct"]')
      .evaluateAll((items) =>
        items.map((item) => (item as HTMLElement).dataset.peerId),
      )) as string[]

  async function add(page: Page, title: string) {
    await page.locator('#title').fill(title)
    await page.locator('#title').press('Enter')
    await task(page, title).waitFor()
  }

  it('pages and a Node peer link directly and keep syncing after the relay process stops', async () => {
    const page1 = await openPage()
    const page2 = await openPage()

    // Introduced by the relay, each links directly to the two others (under a loaded CI
    // machine a negotiation can take a while; a timeout says what each link was doing).
    await until(
      () => node.links.value.filter((l) => l.state === 'direct').length === 2,
      45_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; node links: ${JSON.stringify(node.links.value)}`)
    })
    const pageIds = node.links.value.map((l) => l.id).sort()
    await until(async () => (await directIds(page1)).length === 2)
    await until(async () => (await directIds(page2)).length === 2)
    for (const page of [page1, page2]) {
      const ids = await directIds(page)
      expect(ids).toContain(nodeId(node))
      expect(ids.filter((id) => pageIds.includes(id))).toHaveLength(1)
    }

    // A peer behind a firewall that passes no ICE packet: it gives up after 2 s and tells
    // the pages, which list it as failed with the code; its task comes through the relay.
    walled = await nodePeer({
      RTCPeerConnection: firewalled(RTCPeerConnection),
      rtcConfiguration: { bindAddress: '127.0.0.1' },
      limits: { connectTimeoutMs: 2000 },
    })
    const walledId = nodeId(walled)
    for (const page of [page1, page2]) {
      const item = page.locator(`#links li[data-peer-id="${walledId}"][data-link="failed"]`)
      await item.waitFor({ timeout: 20_000 })
      expect(await item.getAttribute('data-code')).toBe('KERNEL_REMOTE_ERROR')
      expect(await item.locator('.link-code').textContent()).toBe('KERNEL_REMOTE_ERROR')
      expect(await item.getAttribute('title')).toBe('link refused: NET_TIMEOUT')
    }
    await mkdir(join(root, 'test-artifacts'), { recursive: true })
    await page1.screenshot({ path: join(root, 'test-artifacts', 'todo-web-failed-link.png') })
    // Each offering side tries twice more (linkRetries, 2 s then 4 s apart) before it rests.
    const walledFailures = () => walled!.links.value.map((l) => l.failure?.code)
    await until(() => walledFailures().join() === 'NET_TIMEOUT,NET_TIMEOUT,NET_TIMEOUT', 45_000)
    await walled.addTask('from the firewalled peer, via the relay')
    await task(page1, 'from the firewalled peer, via the relay').waitFor()
    await task(page2, 'from the firewalled peer, via the relay').waitFor()
    await until(() => nodeTitles().includes('from the firewalled peer, via the relay'))
    await walled.close()
    walled = undefined

    // Through the relay and directly alike, before it stops.
    await add(page1, 'before the relay stops')
    await task(page2, 'before the relay stops').waitFor()
    await until(() => nodeTitles().includes('before the relay stops'))

    relay.child.kill('SIGTERM')
    const [code] = await once(relay.child, 'exit')
    expect(code).toBe(0)
    await until(() => node.peers.length === 2) // the relay's session is gone; two direct ones
    expect(node.peers.map((p) => p.id).sort()).toEqual(pageIds)

    await add(page1, 'from page 1, relay gone')
    await task(page2, 'from page 1, relay gone').waitFor()
    await until(() => nodeTitles().includes('from page 1, relay gone'))

    await add(page2, 'from page 2, relay gone')
    await task(page1, 'from page 2, relay gone').waitFor()
    await until(() => nodeTitles().includes('from page 2, relay gone'))

    await node.addTask('from the Node peer, relay gone')
    await task(page1, 'from the Node peer, relay gone').waitFor()
    await task(page2, 'from the Node peer, relay gone').waitFor()

    expect(await page1.locator('#tasks li').count()).toBe(5)
    expect(await page2.locator('#tasks li').count()).toBe(5)
    expect(node.list()).toHaveLength(5)
    for (const page of [page1, page2]) {
      expect(await page.locator('#links li[data-link="direct"]').count()).toBe(2)
    }
    await page1.screenshot({ path: join(root, 'test-artifacts', 'todo-web-direct.png') })
    expect(pageErrors).toEqual([])
  }, 90_000)
})
