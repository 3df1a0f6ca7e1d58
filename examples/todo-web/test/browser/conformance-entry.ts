/**
 * Bundled for Chromium by test/conformance.test.ts, with `vitest` replaced by the
 * harness: the repo conformance suite against browser-level (IndexedDB), one database
 * per test. `window.runConformance()` runs it and resolves with the results.
 */
import { BrowserLevel } from 'browser-level'
import { conformance } from '../../../../packages/repo/test/conformance.ts'
import { type RunResult, run } from './harness.ts'

let databases = 0
let last = ''
conformance({
  name: 'browser-level (IndexedDB)',
  async open() {
    last = `conformance-${databases++}`
    return new BrowserLevel(last)
  },
  async reopen() {
    return new BrowserLevel(last)
  },
})

declare global {
  interface Window {
    runConformance(): Promise<RunResult>
  }
}
window.runConformance = run
