/**
 * The floor under the scale bench's create figure: what one awaited `addTask` asks of the
 * machine, with none of the SDK's own work. {@link recordCalls} notes the shape of every
 * `getMany`, `getSync` and array `batch` the kernel's database gets while the create window
 * runs (key and value lengths, put or del); {@link replayFloor} then makes, one awaited task
 * at a time, the same calls with random bytes of those lengths (cut from one pool drawn
 * before the clock starts) into an empty classic-level folder, after an Ed25519 signature
 * over a message of the task's block size (libsodium where `sodium-native` is installed, as
 * `@picostack/feed` signs in Node, else node:crypto). An empty folder answers faster than a
 * full one, so the figure is a lower bound of the time a task costs: create cannot beat it.
 */
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto'
import { sodiumEd25519 } from '@picostack/feed'
import { ClassicLevel } from 'classic-level'

/** One database call: a `getMany` of keys of these lengths, or a `batch` of these ops. */
type Call =
  | { kind: 'getMany'; keyBytes: number[] }
  | { kind: 'getSync'; keyBytes: number }
  | { kind: 'batch'; ops: { put: boolean; keyBytes: number; valueBytes: number }[] }

/** The database surface recorded (a `LevelDatabase` of abstract-level 3). */
interface Recordable {
  getMany(keys: Uint8Array[], options?: unknown): Promise<unknown>
  getSync?(key: Uint8Array, options?: unknown): unknown
  batch(ops: unknown, options?: unknown): unknown
}

type BatchOp = { type: 'put' | 'del'; key: Uint8Array; value?: Uint8Array }

/**
 * Notes the shape of every `getMany`, `getSync` and array `batch` `db` gets until `stop()`,
 * which puts the database's own methods back and returns the calls in order.
 */
export function recordCalls(db: Recordable): { stop(): Call[] } {
  const calls: Call[] = []
  const { getMany, getSync, batch } = db
  db.getMany = function (keys, options) {
    calls.push({ kind: 'getMany', keyBytes: keys.map((key) => key.byteLength) })
    return getMany.call(this, keys, options)
  }
  if (getSync) {
    db.getSync = function (key, options) {
      calls.push({ kind: 'getSync', keyBytes: key.byteLength })
      return getSync.call(this, key, options)
    }
  }
  db.batch = function (ops, options) {
    if (Array.isArray(ops)) {
      calls.push({
        kind: 'batch',
        ops: (ops as BatchOp[]).map((op) => ({
          put: op.type === 'put',
          keyBytes: op.key.byteLength,
          valueBytes: op.value?.byteLength ?? 0,
        })),
      })
    }
    return batch.call(this, ops, options)
  }
  return {
    stop() {
      db.getMany = getMany
      if (getSync) db.getSync = getSync
      db.batch = batch
      return calls
    },
  }
}

/** Signs a message with a new key: libsodium where feed has it (its default in Node), else node:crypto. */
function signer(): (message: Uint8Array) => void {
  const sodium = sodiumEd25519()
  const seed = randomBytes(32)
  if (sodium) return (message) => sodium.sign(message, seed)
  const { privateKey } = generateKeyPairSync('ed25519')
  return (message) => sign(null, message, privateKey)
}

/**
 * Tasks per second of the floor: `tasks` tasks, each a signature over `blockBytes` bytes and
 * then its share of `calls` (recorded over `tasks` tasks), one awaited task at a time, into
 * a new classic-level folder `dir` (closed afterwards).
 */
export async function replayFloor(
  dir: string,
  calls: Call[],
  tasks: number,
  blockBytes: number,
): Promise<number> {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, {
    keyEncoding: 'view',
    valueEncoding: 'view',
  })
  await db.open()
  const signOne = signer()
  // Random bytes drawn before the clock starts (drawing them per call cost about as much
  // as the calls), cut in order: 16 MB lasts the create window's keys and values.
  const pool = randomBytes(16 * 1024 * 1024)
  let at = 0
  const bytes = (n: number) => {
    if (at + n > pool.length) at = 0
    at += n
    return pool.subarray(at - n, at)
  }
  const perTask = Math.max(1, Math.round(calls.length / tasks))
  const started = performance.now()
  for (let i = 0; i < calls.length; i += perTask) {
    signOne(bytes(blockBytes))
    for (const call of calls.slice(i, i + perTask)) {
      if (call.kind === 'getMany') await db.getMany(call.keyBytes.map((n) => bytes(n)))
      else if (call.kind === 'getSync') db.getSync(bytes(call.keyBytes))
      else {
        await db.batch(
          call.ops.map((op) =>
            op.put
              ? { type: 'put', key: bytes(op.keyBytes), value: bytes(op.valueBytes) }
              : { type: 'del', key: bytes(op.keyBytes) },
          ),
        )
      }
    }
  }
  const ms = performance.now() - started
  await db.close()
  return ((calls.length / perTask) * 1000) / ms
}
