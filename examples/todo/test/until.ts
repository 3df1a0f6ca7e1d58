/**
 * Polls `check` every 20 ms until it holds, for the to-do tests here and the Chromium
 * tests of the web pages (self-contained: create-picostack copies this folder as it is).
 * @param timeoutMs - how long to wait before failing
 * @throws Error when `check` does not hold within `timeoutMs`
 */
export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const start = Date.now()
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`condition not met in ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
