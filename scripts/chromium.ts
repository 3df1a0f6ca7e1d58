/**
 * Debian's Chromium driven by playwright-core (`npx playwright install` cannot download
 * browsers here; `.ci/run` installs the `chromium` package when it is missing).
 */
import { existsSync } from 'node:fs'
import { type Browser, chromium } from 'playwright-core'

/** Where Debian's `chromium` package puts the browser. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Flags that work headless in containers, without reaching any Google service. */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
]

/**
 * Flags for WebRTC on a machine with only a loopback interface: gather 127.0.0.1 as a
 * host candidate, and show it as an address rather than an mDNS name.
 */
export const LOOPBACK_WEBRTC_FLAGS = [
  '--allow-loopback-in-peer-connection',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
]

/**
 * Launches headless Chromium with a fresh temporary profile (playwright makes a new
 * user-data-dir per launch and deletes it on close).
 * @param extraFlags - more command-line flags (e.g. {@link LOOPBACK_WEBRTC_FLAGS})
 * @throws when Chromium is not installed: the browser tests fail rather than skip
 */
export async function launchChromium(extraFlags: string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}: apt-get install chromium (.ci/run does), or set CHROMIUM_PATH`,
    )
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [...FLAGS, ...extraFlags],
    timeout: 20_000,
  })
}
