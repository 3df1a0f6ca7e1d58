/**
 * The libsodium worker pool behind verifyBatch in Node (worker-verifier.ts): the rule's
 * verdict on every triple of ed25519-cases.ts (random torsion cases: ed25519-rule.test.ts, with
 * every backend), batches split
 * across workers in chunks, and what a caller sees when libsodium does not load, fails the
 * equation probe, or a worker dies with signatures in flight.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { afterAll, describe, expect, it } from 'vitest'
import { fromHex, nobleEd25519, verifyBatch, workerVerifier } from '../src/index.ts'
import { WORKER_CHUNK_ITEMS, WorkerVerifier } from '../src/worker-verifier.ts'
import { type Ed25519Case, ed25519Cases } from './ed25519-cases.ts'

const sodium = createRequire(import.meta.url).resolve('sodium-native')
const pools: WorkerVerifier[] = []
afterAll(() => Promise.all(pools.map((pool) => pool.close())))

/** A pool of `count` workers of its own, once one of them is ready. */
async function started(count: number, path = sodium): Promise<WorkerVerifier> {
  const pool = new WorkerVerifier(Worker as never, path, count)
  pools.push(pool)
  await until(() => pool.ready)
  return pool
}

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

const item = (c: Ed25519Case) => ({
  sig: fromHex(c.sig),
  message: fromHex(c.message),
  publicKey: fromHex(c.key),
})

/** `n` honest signatures by one author, every `bad`-th with its last byte flipped. */
function signed(n: number, bad: number) {
  const seed = new Uint8Array(32).fill(n % 251)
  const publicKey = nobleEd25519.publicKey(seed)
  const items = Array.from({ length: n }, (_, i) => {
    const message = new TextEncoder().encode(`message ${i}`)
    return { message, publicKey, sig: nobleEd25519.sign(message, seed) }
  })
  for (let i = 0; i < n; i += bad) items[i]!.sig[0]! ^= 1
  return items
}

describe('the worker pool', () => {
  it('gives the rule verdict on every triple (checks 1-4 here, the equation in libsodium)', async () => {
    const pool = await started(1)
    const cases = ed25519Cases()
    expect(await pool.verify(cases.map(item))).toEqual(cases.map((c) => c.valid))
  })

  it('splits a batch into chunks across its workers and keeps the order', async () => {
    const pool = await started(2)
    const items = signed(WORKER_CHUNK_ITEMS * 2 + 7, 97)
    const verdicts = await pool.verify(items)
    expect(verdicts.length).toBe(items.length)
    expect(verdicts.flatMap((v, i) => (v ? [] : [i]))).toEqual(
      items.flatMap((_, i) => (i % 97 === 0 ? [i] : [])),
    )
  })

  it('is never ready when libsodium does not load, and refuses to verify', async () => {
    const pool = new WorkerVerifier(Worker as never, '/nonexistent/sodium-native', 1)
    pools.push(pool)
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(pool.ready).toBe(false)
    await expect(pool.verify(signed(4, 2))).rejects.toThrow()
  })

  it('is never ready when its libsodium fails the equation probe (accepts anything)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'feed-sodium-'))
    const lenient = join(dir, 'lenient-sodium.cjs')
    writeFileSync(lenient, 'exports.crypto_sign_verify_detached = () => true\n')
    const pool = new WorkerVerifier(Worker as never, lenient, 1)
    pools.push(pool)
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(pool.ready).toBe(false)
    await expect(pool.verify(signed(4, 2))).rejects.toThrow()
    rmSync(dir, { recursive: true, force: true })
  })

  it('fails the signatures in flight when its worker dies', async () => {
    const pool = await started(1)
    const pending = pool.verify(signed(WORKER_CHUNK_ITEMS, 5))
    await pool.close()
    await expect(pending).rejects.toThrow()
    expect(pool.ready).toBe(false)
  })
})

/** Runs `code` (ESM, `FEED` bound to this package's entry) in a child Node; its exit code. */
async function exitCodeOf(code: string): Promise<number | null> {
  const entry = new URL('../src/index.ts', import.meta.url).href
  const script = `const FEED = await import(${JSON.stringify(entry)});\n${code}`
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('../../..', import.meta.url)),
    stdio: 'inherit',
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
  const [exitCode] = await once(child, 'exit')
  clearTimeout(timer)
  return exitCode as number | null
}

describe('the shared pool and the process it runs in', () => {
  // A process must end by itself once its work is done, workers or not (a Node 'message'
  // listener refs a worker's port: the pool unrefs after attaching its listeners).
  it('lets a process exit that started the pool and never sent it a signature', async () => {
    expect(await exitCodeOf('FEED.workerVerifier()')).toBe(0)
  })

  it('lets a process exit after its signatures were checked on the workers', async () => {
    const code = `
      const seed = new Uint8Array(32).fill(3)
      const publicKey = FEED.nobleEd25519.publicKey(seed)
      const message = new Uint8Array([1, 2, 3])
      const items = [0, 1, 2, 3].map(() => ({ sig: FEED.nobleEd25519.sign(message, seed), message, publicKey }))
      const pool = FEED.workerVerifier()
      while (!pool.ready) await new Promise((resolve) => setTimeout(resolve, 10))
      const verdicts = await FEED.verifyBatch(items)
      if (verdicts.join() !== 'true,true,true,true') process.exitCode = 2`
    expect(await exitCodeOf(code)).toBe(0)
  })
})

describe('verifyBatch in Node', () => {
  it('uses the shared pool once it is ready, with the same verdicts as before', async () => {
    const items = signed(300, 7)
    const expected = items.map((_, i) => i % 7 !== 0)
    expect(await verifyBatch(items)).toEqual(expected) // WebCrypto while the workers load
    const shared = workerVerifier()
    expect(shared).toBeDefined()
    await until(() => shared!.ready)
    expect(await shared!.verify(items)).toEqual(expected)
    expect(await verifyBatch(items)).toEqual(expected)
  })
})
