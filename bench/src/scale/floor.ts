/**
 * The floor under the scale bench's create figure: what one awaited `addTask` asks of the
 * machine, with none of the SDK's own work. {@link recordCalls} notes the shape of every
 * `getMany` and array `batch` the kernel's database gets while the create window runs (key
 * and value lengths, put or del); {@link replayFloor} then makes, one awaited task at a time,
 * the same calls with random bytes of those lengths into an empty classic-level folder,
 * after an Ed25519 signature over a message of the task's block size (node:crypto, the
 * signer `@picostack/feed` uses in Node). An empty folder answers faster than a full one,
 * so the figure is a lower bound of the time a task costs: create cannot beat it.
 */
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto'
import { ClassicLevel } from 'classic-level'

/** One database call: a `getMany` of keys of these lengths, or a `batch` of these ops. */
type Call =
  | { kind: 'getMany'; keyBytes: number[] }
  | { kind: 'batch'; ops: { put: boolean; keyBytes: number; valueBytes: number }[] }

/** The database surface recorded (a `LevelDatabase` of abstract-level 3). */
interface Recordable {
  getMany(keys: Uint8Array[], options?: unknown): Promise<unknown>
  batch(ops: unknown, options?: unknown): unknown
}

type BatchOp = { type: 'put' | 'del'; key: Uint8Array; value?: Uint8Array }

/**
 * Notes the shape of every `getMany` and array `batch` `db` gets until `stop()`, which puts
 * the database's own methods back and returns the calls in order.
 */
export function recordCalls(db: Recordable): { stop(): Call[] } {
  const calls: Call[] = []
  const { getMany, batch } = db
  db.getMany = function (keys, options) {
    calls.push({ kind: 'getMany', keyBytes: keys.map((key) => key.byteLength) })
    return getMany.call(this, keys, options)
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
      db.batch = batch
      return calls
    },
  }
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
  const { privateKey } = generateKeyPairSync('ed25519')
  const perTask = Math.max(1, Math.round(calls.length / tasks))
  const started = performance.now()
  for (let i = 0; i < calls.length; i += perTask) {
    sign(null, randomBytes(blockBytes), privateKey)
    for (const call of calls.slice(i, i + perTask)) {
      if (call.kind === 'getMany') await db.getMany(call.keyBytes.map((n) => randomBytes(n)))
      else {
        await db.batch(
          call.ops.map((op) =>
            op.put
              ? { type: 'put', key: randomBytes(op.keyBytes), value: randomBytes(op.valueBytes) }
              : { type: 'del', key: randomBytes(op.keyBytes) },
          ),
        )
      }
    }
  }
  const ms = performance.now() - started
  await db.close()
  return ((calls.length / perTask) * 1000) / ms
}
