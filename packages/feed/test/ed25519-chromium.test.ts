/**
 * Issue 12, finding 1, in a browser: the package's browser bundle, loaded in headless
 * Chromium, verifies the triples of ed25519-cases.ts with WebCrypto (BoringSSL there) and
 * with noble, and gives the same verdicts as every backend in Node; a feed carrying the
 * identity forgery is refused there with FEED_SIGNATURE by both paths.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bundleForBrowser } from '../../../scripts/browser-bundle.ts'
import { launchChromium } from '../../../scripts/chromium.ts'
import { fromHex, nobleEd25519, toHex } from '../src/index.ts'
import { ed25519Cases, IDENTITY_FORGERY } from './ed25519-cases.ts'
import { concat, varint } from './raw.ts'

const entry = fileURLToPath(new URL('../src/index.ts', import.meta.url))
const cases = ed25519Cases()

/** What the page reports. */
interface InPage {
  webName: string | undefined
  syncName: string
  web: boolean[]
  noble: boolean[]
  /** `crypto.subtle.verify` alone, without the rule (false where it throws). */
  subtleAlone: boolean[]
  forgery: { fromAsync: string; from: string }
}

/** playwright-core's Browser and Page, as the shared launcher returns them. */
type Browser = Awaited<ReturnType<typeof launchChromium>>
type Page = Awaited<ReturnType<Browser['newPage']>>

let server: Server
let browser: Browser
let page: Page

beforeAll(async () => {
  // WebCrypto needs a secure context: http://127.0.0.1 is one, about:blank is not
  server = createServer((_, res) => res.end('<!doctype html><title>feed</title>'))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  browser = await launchChromium()
  page = await browser.newPage()
  await page.goto(`http://127.0.0.1:${port}/`)
  const { code } = await bundleForBrowser(entry, { format: 'iife', globalName: 'feedBundle' })
  await page.addScriptTag({ content: code })
})

afterAll(async () => {
  await browser?.close()
  await new Promise((resolve) => server?.close(resolve))
})

/** The forged genesis block (identity key, R = identity, S = 0) as feed bytes, hex. */
function forgedFeedHex(): string {
  const data = concat([0, 1], fromHex(IDENTITY_FORGERY.key), new TextEncoder().encode('forged'))
  return toHex(
    concat([0x50, 0x49, 0x43, 0x30], fromHex(IDENTITY_FORGERY.sig), varint(data.length), data),
  )
}

async function runInPage(): Promise<InPage> {
  const triples = cases.map(({ key, message, sig }) => ({ key, message, sig }))
  return page.evaluate(
    async ({ triples, feedHex }) => {
      type Bundle = typeof import('../src/index.ts')
      const lib = (globalThis as unknown as { feedBundle: Bundle }).feedBundle
      const web = await lib.webCryptoEd25519()
      // fromHex's bytes are ArrayBuffer-backed, as WebCrypto's typings want
      const bytes = (hex: string) => lib.fromHex(hex) as Uint8Array<ArrayBuffer>
      const parsed = triples.map((t) => ({
        key: bytes(t.key),
        message: bytes(t.message),
        sig: bytes(t.sig),
      }))
      const subtleAlone = await Promise.all(
        parsed.map(async ({ key, message, sig }) => {
          try {
            const k = await crypto.subtle.importKey('raw', key, 'Ed25519', false, ['verify'])
            return await crypto.subtle.verify('Ed25519', k, sig, message)
          } catch {
            return false
          }
        }),
      )
      const codeOf = async (run: () => unknown) => {
        try {
          await run()
          return 'accepted'
        } catch (err) {
          return String((err as { code?: string }).code)
        }
      }
      const feed = lib.fromHex(feedHex)
      return {
        webName: web?.name,
        syncName: lib.activeEd25519().name,
        web: web ? await Promise.all(parsed.map((t) => web.verify(t.sig, t.message, t.key))) : [],
        noble: parsed.map((t) => lib.nobleEd25519.verify(t.sig, t.message, t.key)),
        subtleAlone,
        forgery: {
          fromAsync: await codeOf(() => lib.Feed.fromAsync(feed)),
          from: await codeOf(() => lib.Feed.from(feed)),
        },
      }
    },
    { triples, feedHex: forgedFeedHex() },
  )
}

describe('Ed25519 in Chromium', () => {
  let result: InPage
  beforeAll(async () => {
    result = await runInPage()
  })

  it('has WebCrypto Ed25519, and noble as the synchronous backend', () => {
    expect(result.webName).toBe('webcrypto')
    expect(result.syncName).toBe('noble')
  })

  it(`WebCrypto and noble give the rule verdict on all ${cases.length} triples, as in Node`, () => {
    const expected = cases.map((c) => c.valid)
    const inNode = cases.map((c) =>
      nobleEd25519.verify(fromHex(c.sig), fromHex(c.message), fromHex(c.key)),
    )
    expect(inNode).toEqual(expected)
    const wrong = (verdicts: boolean[]) =>
      cases.filter((c, i) => verdicts[i] !== c.valid).map((c) => c.label)
    expect(wrong(result.web)).toEqual([])
    expect(wrong(result.noble)).toEqual([])
  })

  it('WebCrypto alone accepts triples the rule refuses (why the rule runs first)', () => {
    const accepted = cases.filter((c, i) => !c.valid && result.subtleAlone[i])
    expect(accepted.length).toBeGreaterThan(0)
    // the forgery of issue 12 among them
    const forgery = cases.findIndex((c) => c.key === IDENTITY_FORGERY.key)
    expect(result.subtleAlone[forgery]).toBe(true)
    // and it computes the cofactorless equation the rule relies on: mixed-order R refused
    const mixedR = cases.flatMap((c, i) =>
      c.label.startsWith('honest key, mixed-order R') ? [result.subtleAlone[i]] : [],
    )
    expect(mixedR).toEqual(Array(7).fill(false))
    // honest signatures verify there too
    expect(cases.filter((c, i) => c.valid && !result.subtleAlone[i])).toEqual([])
  })

  it('refuses a feed carrying the identity forgery with FEED_SIGNATURE', () => {
    expect(result.forgery).toEqual({ fromAsync: 'FEED_SIGNATURE', from: 'FEED_SIGNATURE' })
  })
})
