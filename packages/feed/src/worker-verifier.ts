/**
 * Signature checks on worker threads with libsodium, for {@link verifyBatch} in Node.
 *
 * libsodium's `crypto_sign_verify_detached` (through the optional dependency
 * `sodium-native`) costs about half of OpenSSL's Ed25519 check (55-62 us against 112-117 us
 * on the 2-core bench machine), and on worker threads it leaves the main thread and
 * libuv's pool (where the database's reads and writes run) to the rest of the work.
 * It computes check 5 of the rule (docs/block-format.md, "Signatures": the cofactorless
 * equation, `encode([S]B - [k]A) == R`); the checks it adds (canonical `S`, `R` and `A`
 * not of small order, canonical `A`) are among checks 1-4, which run here before a
 * signature is sent, as on every backend.
 *
 * Found through `process.getBuiltinModule` (no Node import a browser bundler could see);
 * absent outside Node, where `sodium-native` is not installed or does not load, and where
 * a worker cannot start: {@link verifyBatch} then uses WebCrypto as before.
 */

import type { VerifyItem } from './crypto.ts'
import { EQUATION_PROBE, publicKeyInRule, signatureInRule } from './ed25519-rule.ts'
import { KeyCache, PUBLIC_KEY_CACHE_ENTRIES } from './key-cache.ts'
import { sodiumPath } from './sodium-ed25519.ts'

/** Signatures per message to a worker, at most (bounds the copy each message holds). */
export const WORKER_CHUNK_ITEMS = 1024

/** Workers at most, whatever the core count (one core stays for the main thread). */
const MAX_WORKERS = 4

/**
 * The worker's code (run with `eval`: no file to ship or to resolve). A message is
 * `{ id, bytes, ends }`: the signatures back to back as `sig (64 B) | key (32 B) | message`,
 * each ending at `ends[i]`; the answer `{ id, verdicts }`, one byte per signature (1:
 * valid). Once libsodium loaded it says `{ ready }`: true when libsodium computes the
 * rule's cofactorless equation (it passes `EQUATION_PROBE`, as every platform verifier must
 * before it serves), false when not (the worker is not used).
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = process.getBuiltinModule('node:worker_threads')
const sodium = process.getBuiltinModule('node:module').createRequire(workerData.sodium)(workerData.sodium)
parentPort.on('message', ({ id, bytes, ends }) => {
  const verdicts = new Uint8Array(ends.length)
  let at = 0
  for (let i = 0; i < ends.length; i++) {
    const end = ends[i]
    const sig = bytes.subarray(at, at + 64)
    const key = bytes.subarray(at + 64, at + 96)
    verdicts[i] = sodium.crypto_sign_verify_detached(sig, bytes.subarray(at + 96, end), key) ? 1 : 0
    at = end
  }
  parentPort.postMessage({ id, verdicts }, [verdicts.buffer])
})
const probe = workerData.probe
const ready =
  sodium.crypto_sign_verify_detached(probe.honest, probe.message, probe.key) &&
  !sodium.crypto_sign_verify_detached(probe.cofactoredOnly, probe.message, probe.key)
parentPort.postMessage({ ready })
`

/** What this module needs of `node:worker_threads`' `Worker`. */
interface WorkerLike {
  postMessage(message: unknown, transfer: ArrayBuffer[]): void
  on(event: 'message', listener: (message: WorkerReply) => void): void
  on(event: 'error' | 'exit', listener: () => void): void
  ref(): void
  unref(): void
  terminate(): Promise<number>
}
type WorkerReply = { ready: boolean } | { id: number; verdicts: Uint8Array }
type WorkerConstructor = new (
  source: string,
  options: {
    eval: true
    workerData: { sodium: string; probe: typeof EQUATION_PROBE }
    execArgv: string[]
  },
) => WorkerLike

/** A job sent to a worker: resolves with one verdict byte per signature sent. */
interface Job {
  resolve: (verdicts: Uint8Array) => void
  reject: (error: Error) => void
}

/** One worker, its jobs in flight and whether libsodium loaded in it. */
class Lane {
  ready = false
  dead = false
  readonly jobs = new Map<number, Job>()
  constructor(readonly worker: WorkerLike) {}
}

/**
 * A pool of worker threads checking Ed25519 signatures with libsodium. Workers hold the
 * process open only while they have jobs. Use {@link workerVerifier} to get the shared one.
 */
export class WorkerVerifier {
  readonly #lanes: Lane[]
  readonly #keys = new KeyCache<boolean>(PUBLIC_KEY_CACHE_ENTRIES)
  #nextId = 0

  /** Starts `count` workers of `Worker`, each loading `sodium` (the resolved path of sodium-native). */
  constructor(Worker: WorkerConstructor, sodium: string, count: number) {
    this.#lanes = Array.from({ length: count }, () => {
      const workerData = { sodium, probe: EQUATION_PROBE }
      // No execArgv: the parent's flags (`--import tsx`, loaders) have nothing to do here.
      const options = { eval: true as const, workerData, execArgv: [] }
      const lane = new Lane(new Worker(WORKER_SOURCE, options))
      lane.worker.on('message', (reply) => this.#onReply(lane, reply))
      // a worker that failed to load libsodium or died: its jobs fail, the caller falls back
      const die = () => this.#die(lane)
      lane.worker.on('error', die)
      lane.worker.on('exit', die)
      // After the listeners: the first 'message' listener refs the worker's port again.
      lane.worker.unref()
      return lane
    })
  }

  /** True while a worker that loaded libsodium and passed the equation probe is alive. */
  get ready(): boolean {
    return this.#lanes.some((lane) => lane.ready && !lane.dead)
  }

  /**
   * Checks `items` under the rule; one verdict per item, in order. Checks 1-4 run here;
   * the signatures that pass them go to the ready workers in chunks of up to
   * 1,024 (`WORKER_CHUNK_ITEMS`), spread evenly.
   * @throws Error when no worker is ready, or a worker died with a chunk in flight (the
   *   caller checks those items another way)
   */
  async verify(items: readonly VerifyItem[]): Promise<boolean[]> {
    const lanes = this.#lanes.filter((lane) => lane.ready && !lane.dead)
    if (lanes.length === 0) throw new Error('no signature worker is ready')
    const verdicts = new Array<boolean>(items.length).fill(false)
    const sent: number[] = [] // indices of the items that passed checks 1-4
    for (let i = 0; i < items.length; i++) {
      const { sig, publicKey } = items[i]!
      if (signatureInRule(sig) && this.#keys.get(publicKey, () => keyInRule(publicKey))) {
        sent.push(i)
      }
    }
    const per = Math.min(WORKER_CHUNK_ITEMS, Math.ceil(sent.length / lanes.length))
    const jobs: Promise<void>[] = []
    for (let at = 0, k = 0; at < sent.length; at += per, k++) {
      const chunk = sent.slice(at, at + per)
      const lane = lanes[k % lanes.length]!
      jobs.push(
        this.#send(lane, items, chunk).then((answers) => {
          for (let j = 0; j < chunk.length; j++) verdicts[chunk[j]!] = answers[j] === 1
        }),
      )
    }
    await Promise.all(jobs)
    return verdicts
  }

  /** Stops every worker (tests; the shared pool's workers never hold the process open when idle). */
  async close(): Promise<void> {
    await Promise.all(this.#lanes.map((lane) => lane.worker.terminate()))
  }

  /** Sends the items at `indices` to `lane`'s worker in one message. */
  #send(lane: Lane, items: readonly VerifyItem[], indices: number[]): Promise<Uint8Array> {
    let size = 0
    for (const i of indices) size += 96 + items[i]!.message.length
    const bytes = new Uint8Array(size)
    const ends = new Uint32Array(indices.length)
    let at = 0
    for (let j = 0; j < indices.length; j++) {
      const { sig, publicKey, message } = items[indices[j]!]!
      bytes.set(sig, at)
      bytes.set(publicKey, at + 64)
      bytes.set(message, at + 96)
      at += 96 + message.length
      ends[j] = at
    }
    const id = this.#nextId++
    return new Promise<Uint8Array>((resolve, reject) => {
      if (lane.dead) return reject(new Error('the signature worker died'))
      if (lane.jobs.size === 0) lane.worker.ref()
      lane.jobs.set(id, { resolve, reject })
      lane.worker.postMessage({ id, bytes, ends }, [bytes.buffer, ends.buffer])
    })
  }

  #onReply(lane: Lane, reply: WorkerReply): void {
    if ('ready' in reply) {
      if (reply.ready) lane.ready = true
      else this.#die(lane) // libsodium here does not compute the rule's equation
      return
    }
    const job = lane.jobs.get(reply.id)
    if (!job) return
    lane.jobs.delete(reply.id)
    if (lane.jobs.size === 0) lane.worker.unref()
    job.resolve(reply.verdicts)
  }

  #die(lane: Lane): void {
    if (lane.dead) return
    lane.dead = true
    for (const job of lane.jobs.values()) job.reject(new Error('the signature worker died'))
    lane.jobs.clear()
    lane.worker.unref()
  }
}

/** Checks 2 and 3 of the rule on a public key (32 B). */
function keyInRule(publicKey: Uint8Array): boolean {
  return publicKeyInRule(publicKey) !== null
}

type Process = {
  getBuiltinModule?: (id: string) => unknown
}

let shared: WorkerVerifier | null | undefined

/**
 * The shared worker pool, started on the first call: `min(4, cores - 1)` workers (at
 * least one); `undefined` outside Node, or where `sodium-native` is not installed, or a
 * worker cannot start. Its workers load libsodium in the background: until one is
 * {@link WorkerVerifier.ready}, callers check signatures another way.
 */
export function workerVerifier(): WorkerVerifier | undefined {
  if (shared === undefined) shared = startShared() ?? null
  return shared ?? undefined
}

function startShared(): WorkerVerifier | undefined {
  const builtin = (globalThis as { process?: Process }).process?.getBuiltinModule
  if (!builtin) return undefined
  try {
    const threads = builtin('node:worker_threads') as { Worker: WorkerConstructor }
    const os = builtin('node:os') as { availableParallelism(): number }
    const sodium = sodiumPath()
    if (!sodium) return undefined
    const count = Math.max(1, Math.min(MAX_WORKERS, os.availableParallelism() - 1))
    return new WorkerVerifier(threads.Worker, sodium, count)
  } catch {
    return undefined // sodium-native is not installed, or no worker threads here
  }
}
