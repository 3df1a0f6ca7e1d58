/**
 * Stands in for `vitest` inside a browser bundle: `describe`, `it`/`test`, the four hooks
 * and vitest's own `expect` (@vitest/expect on chai, as vitest builds it), plus `run()`,
 * which runs what was registered and reports the results. Just enough for suites written
 * for vitest (the repo conformance suite) to run in a page; hooks and tests run one at
 * a time in registration order, `afterEach` even after a failure.
 */
import {
  ASYMMETRIC_MATCHERS_OBJECT,
  chai,
  type ExpectStatic,
  getState,
  JestAsymmetricMatchers,
  JestChaiExpect,
  JestExtend,
  setState,
} from '@vitest/expect'

chai.use(JestExtend)
chai.use(JestChaiExpect)
chai.use(JestAsymmetricMatchers)

type Fn = () => unknown
interface Test {
  name: string
  fn: Fn
  timeoutMs: number
}
interface Suite {
  name: string
  children: Array<Suite | Test>
  beforeAll: Fn[]
  afterAll: Fn[]
  beforeEach: Fn[]
  afterEach: Fn[]
}

/** What {@link run} reports. */
export interface RunResult {
  passed: number
  failed: Array<{ name: string; error: string }>
}

const DEFAULT_TIMEOUT_MS = 30_000
const newSuite = (name: string): Suite => ({
  name,
  children: [],
  beforeAll: [],
  afterAll: [],
  beforeEach: [],
  afterEach: [],
})
const root = newSuite('')
let current = root

export function describe(name: string, fn: Fn): void {
  const suite = newSuite(name)
  current.children.push(suite)
  const parent = current
  current = suite
  try {
    fn()
  } finally {
    current = parent
  }
}

export function it(name: string, fn: Fn, options?: number | { timeout?: number }): void {
  const timeoutMs = typeof options === 'number' ? options : (options?.timeout ?? DEFAULT_TIMEOUT_MS)
  current.children.push({ name, fn, timeoutMs })
}
export const test = it

export const beforeAll = (fn: Fn) => current.beforeAll.push(fn)
export const afterAll = (fn: Fn) => current.afterAll.push(fn)
export const beforeEach = (fn: Fn) => current.beforeEach.push(fn)
export const afterEach = (fn: Fn) => current.afterEach.push(fn)

/** vitest's `expect`, built the way vitest builds it (without test-bound state). */
function createExpect(): ExpectStatic {
  const expect = ((value: unknown, message?: string) => {
    const { assertionCalls } = getState(expect)
    setState({ assertionCalls: assertionCalls + 1 }, expect)
    return chai.expect(value, message)
  }) as ExpectStatic
  Object.assign(expect, chai.expect)
  Object.assign(expect, (globalThis as Record<symbol, object>)[ASYMMETRIC_MATCHERS_OBJECT])
  expect.getState = () => getState(expect)
  expect.setState = (state) => setState(state, expect)
  setState(
    { assertionCalls: 0, isExpectingAssertions: false, expectedAssertionsNumber: null },
    expect,
  )
  return expect
}
export const expect = createExpect()

function withTimeout(fn: Fn, timeoutMs: number, name: string): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined
  return Promise.race([
    Promise.resolve().then(fn),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${name} timed out (${timeoutMs} ms)`)), timeoutMs)
    }),
  ]).finally(() => clearTimeout(timer))
}

const describeError = (err: unknown) =>
  err instanceof Error ? `${err.name}: ${err.message}` : String(err)

/** Runs every registered test; never throws (failures are reported). */
export async function run(): Promise<RunResult> {
  const result: RunResult = { passed: 0, failed: [] }
  async function runSuite(suite: Suite, path: string[], parents: Suite[]): Promise<void> {
    const chain = [...parents, suite]
    for (const hook of suite.beforeAll) await hook()
    for (const child of suite.children) {
      if ('children' in child) {
        await runSuite(child, [...path, child.name], chain)
        continue
      }
      const name = [...path, child.name].join(' > ')
      const errors: unknown[] = []
      try {
        for (const s of chain) for (const hook of s.beforeEach) await hook()
        await withTimeout(child.fn, child.timeoutMs, name)
      } catch (err) {
        errors.push(err)
      }
      for (const s of [...chain].reverse()) {
        for (const hook of s.afterEach) {
          try {
            await hook()
          } catch (err) {
            errors.push(err)
          }
        }
      }
      if (errors.length) result.failed.push({ name, error: errors.map(describeError).join('; ') })
      else result.passed++
    }
    for (const hook of suite.afterAll) await hook()
  }
  await runSuite(root, [], [])
  return result
}
