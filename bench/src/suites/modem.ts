/**
 * A new peer joins a hyperswarm topic on a local HyperDHT testnet (127.0.0.1 only) and
 * fully syncs 10,000 to-do tasks from one peer: picostack (TodoKernel from the to-do
 * example over @picostack/modem; one chain per task, every block Ed25519-signed and
 * verified, state computed) beside hypercore 11.35.1 + hyperswarm replicating the same
 * 10,000 records (one append-only log, a Merkle tree with one signature per batch) in the
 * same run. Both keep their data in a temp folder on disk, as the to-do app does
 * (`new TodoKernel('./data')`: classic-level) and hypercore does (its files). Timed from
 * the joiner's `join` to the last task/record held, discovery and connection included.
 * Seeding is not timed. The two are run alternately
 * `MODEM_BENCH_ROUNDS` times (default 3; the order flips each round) and compared by
 * their medians, every run printed: one run of each, back to back, read 0.72x-1.11x for
 * the same code on this shared machine. Printed beside them: the time of the TASKS
 * signature checks alone (picofeed v8 signs every block; hypercore signs a batch), a floor
 * under picostack's figure.
 *
 * Target (issue 14): picostack's join + sync over Modem56 <= 1.0x the time of hypercore
 * + hyperswarm, printed with the protocol version under test.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Feed, PROTOCOL_VERSION, SimpleKernel, signPair } from '@picostack/kernel'
import { Modem56 } from '@picostack/modem'
import { verifyBlocks } from '@picostack/repo'
import DHT from 'hyperdht'
import createTestnet, { type Testnet } from 'hyperdht/testnet.js'
import Hyperswarm, { type SwarmConnection } from 'hyperswarm'
import { TodoKernel } from 'todo'
import { median, printTable, ratio } from '../measure.ts'
import { formatRatio, verdict } from '../sync/report.ts'

const TASKS = 10_000
/** Runs of each implementation, alternated (MODEM_BENCH_ROUNDS, default 3). */
const ROUNDS = Number(process.env.MODEM_BENCH_ROUNDS ?? 3)
/** picostack over Modem56 / hypercore + hyperswarm, join + sync time (issue 14). */
const TARGET_RATIO = 1.0

/** The slice of hypercore 11's API used here (it ships no types). */
interface Hypercore {
  readonly key: Uint8Array
  readonly discoveryKey: Uint8Array
  readonly contiguousLength: number
  ready(): Promise<void>
  append(blocks: Uint8Array[]): Promise<unknown>
  update(): Promise<boolean>
  download(range: { start: number; end: number }): { done(): Promise<void> }
  replicate(stream: SwarmConnection): unknown
  close(): Promise<void>
}
type HypercoreClass = new (dir: string, key?: Uint8Array) => Hypercore
const Hypercore = createRequire(import.meta.url)('hypercore') as HypercoreClass

/** A swarm whose DHT knows only the testnet (checked: every bootstrap host is 127.0.0.1). */
function localSwarm(testnet: Testnet): Hyperswarm {
  const swarm = new Hyperswarm({
    dht: new DHT({ bootstrap: testnet.bootstrap, host: '127.0.0.1' }),
  })
  if (!swarm.dht.bootstrapNodes.every((node) => node.host === '127.0.0.1')) {
    throw new Error('bench swarms must only know 127.0.0.1 bootstrap nodes')
  }
  return swarm
}

function localModem(testnet: Testnet): Modem56 {
  const modem = new Modem56({ bootstrap: testnet.bootstrap, host: '127.0.0.1' })
  if (!modem.swarm.dht.bootstrapNodes.every((node) => node.host === '127.0.0.1')) {
    throw new Error('bench modems must only know 127.0.0.1 bootstrap nodes')
  }
  return modem
}

async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 5))
}

/** Join + sync timings of one run, ms. */
interface Timing {
  seedMs: number
  /** Until the first connection (hyperswarm) or wire (modem) was up. */
  connectedMs: number
  syncMs: number
}

/**
 * picostack: one seeder; a joiner spliced to it in-process (no network: the sync
 * protocol alone), then a joiner over Modem56 on `topic`; each kernel on classic-level in
 * a temp folder. Ms from the join to all TASKS
 * tasks held.
 */
async function picostack(
  testnet: Testnet,
  topic: string,
): Promise<{ inProcess: Timing; modem: Timing }> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-picostack-'))
  const seeder = new TodoKernel(join(dir, 'seeder'))
  await seeder.boot()
  const seedStart = performance.now()
  for (let i = 0; i < TASKS; i++) await seeder.addTask(`task ${i}`)
  const seedMs = performance.now() - seedStart
  // Tasks live in the repo (the to-do app's default): count() reads the collection's count.
  const holdsAll = (kernel: TodoKernel) => async () => (await kernel.tasks.count()) === TASKS

  const local = new TodoKernel(join(dir, 'local'))
  await local.boot()
  let start = performance.now()
  seeder.spawnWire()(local.spawnWire())
  await until(holdsAll(local))
  const inProcess = { seedMs, connectedMs: 0, syncMs: performance.now() - start }
  await local.close()

  const seederModem = localModem(testnet)
  await seederModem.join(topic, () => seeder.spawnWire())
  const joiner = new TodoKernel(join(dir, 'joiner'))
  await joiner.boot()
  const joinerModem = localModem(testnet)
  let connectedMs = 0
  joinerModem.once('wire', () => {
    connectedMs = performance.now() - start
  })
  start = performance.now()
  await joinerModem.join(topic, () => joiner.spawnWire())
  await until(holdsAll(joiner))
  const modem = { seedMs, connectedMs, syncMs: performance.now() - start }

  await joinerModem.destroy()
  await seederModem.destroy()
  await joiner.close()
  await seeder.close()
  await rm(dir, { recursive: true, force: true })
  return { inProcess, modem }
}

/**
 * Ms to check the signatures of {@link TASKS} to-do blocks (one-block chains of one author,
 * signed here), all handed to `verifyBlocks` at once: verifyBatch's libsodium worker
 * threads check them (WebCrypto on libuv's pool where sodium-native is absent), as a
 * syncing peer does patch by patch. A picofeed v8 block carries its own
 * Ed25519 signature, so a peer that syncs TASKS tasks checks TASKS signatures (hypercore
 * checks one per batch of its Merkle tree): this is that work alone, a floor of the join.
 */
async function signatureChecksMs(): Promise<number> {
  const { sk } = signPair()
  const blocks = Array.from({ length: TASKS }, (_, i) => {
    const feed = new Feed()
    const op = { op: 'create', title: `task ${i}`, ttlMs: 86_400_000 }
    feed.append(SimpleKernel.encodeBlock('tasks', op, Date.now()), sk)
    return feed.last!
  })
  const start = performance.now()
  const verified = await verifyBlocks(blocks)
  if (verified !== TASKS) throw new Error(`${verified} of ${TASKS} signatures verified`)
  return performance.now() - start
}

/** hypercore + hyperswarm: ms from the reader's join to all TASKS records downloaded. */
async function hypercore(testnet: Testnet): Promise<Timing> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-hypercore-'))
  const writer = new Hypercore(join(dir, 'writer'))
  await writer.ready()
  const seedStart = performance.now()
  const records = Array.from({ length: TASKS }, (_, i) =>
    new TextEncoder().encode(
      JSON.stringify({ op: 'create', title: `task ${i}`, ttlMs: 86_400_000 }),
    ),
  )
  await writer.append(records)
  const seedMs = performance.now() - seedStart
  const replicateOn = (swarm: Hyperswarm, core: Hypercore) =>
    swarm.on('connection', (conn) => {
      conn.on('error', () => {}) // resets at teardown are expected
      core.replicate(conn)
    })
  const swarmA = localSwarm(testnet)
  replicateOn(swarmA, writer)
  await swarmA.join(writer.discoveryKey).flushed()

  const reader = new Hypercore(join(dir, 'reader'), writer.key)
  await reader.ready()
  const swarmB = localSwarm(testnet)
  replicateOn(swarmB, reader)
  let connectedMs = 0
  swarmB.once('connection', () => {
    connectedMs = performance.now() - start
  })
  const start = performance.now()
  await swarmB.join(writer.discoveryKey).flushed()
  await until(() => swarmB.connections.size > 0)
  await reader.update()
  await reader.download({ start: 0, end: TASKS }).done()
  await until(() => reader.contiguousLength === TASKS)
  const syncMs = performance.now() - start

  await swarmB.destroy()
  await swarmA.destroy()
  await reader.close()
  await writer.close()
  await rm(dir, { recursive: true, force: true })
  return { seedMs, connectedMs, syncMs }
}

/** The median of each timing field over `runs`, ms. */
function medianTiming(runs: readonly Timing[]): Timing {
  return {
    seedMs: median(runs.map((r) => r.seedMs)),
    connectedMs: median(runs.map((r) => r.connectedMs)),
    syncMs: median(runs.map((r) => r.syncMs)),
  }
}

export default async function (): Promise<void> {
  if (!Number.isInteger(ROUNDS) || ROUNDS < 1) {
    throw new Error(`MODEM_BENCH_ROUNDS must be a whole number >= 1, got ${ROUNDS}`)
  }
  const testnet = await createTestnet(3)
  try {
    const modemRuns: Timing[] = []
    const inProcessRuns: Timing[] = []
    const coreRuns: Timing[] = []
    const runPico = async () => {
      // A topic per round: the DHT may still list the last round's destroyed seeder.
      const { inProcess, modem } = await picostack(testnet, `bench-todo-${modemRuns.length}`)
      inProcessRuns.push(inProcess)
      modemRuns.push(modem)
    }
    const runCore = async () => {
      coreRuns.push(await hypercore(testnet))
    }
    for (let round = 0; round < ROUNDS; round++) {
      // The order flips each round, so neither side always runs on a warmer process.
      const order = round % 2 === 0 ? [runPico, runCore] : [runCore, runPico]
      for (const run of order) await run()
      console.log(
        `round ${round + 1} of ${ROUNDS}: picostack ${modemRuns.at(-1)!.syncMs.toFixed(0)} ms, hypercore ${coreRuns.at(-1)!.syncMs.toFixed(0)} ms`,
      )
    }
    const checks = await signatureChecksMs()
    const each = (runs: readonly Timing[]) => runs.map((r) => r.syncMs.toFixed(0)).join(' / ')
    const row = (name: string, runs: readonly Timing[]) => {
      const r = medianTiming(runs)
      return {
        implementation: name,
        records: TASKS,
        'seed ms (untimed)': r.seedMs,
        'connected ms': r.connectedMs,
        'join + sync ms (median)': r.syncMs,
        'each run ms': each(runs),
        'records/s': (TASKS / r.syncMs) * 1000,
      }
    }
    const pico = { modem: medianTiming(modemRuns), inProcess: medianTiming(inProcessRuns) }
    const core = medianTiming(coreRuns)
    printTable(
      `new peer joins a topic and syncs ${TASKS.toLocaleString('en-US')} tasks (local testnet, both on disk), ${ROUNDS} rounds alternated`,
      [
        row('picostack (TodoKernel + Modem56)', modemRuns),
        row('picostack in-process (no network)', inProcessRuns),
        row('hypercore 11.35.1 + hyperswarm', coreRuns),
      ],
    )
    console.log(
      `\npicostack over Modem56 / in-process (the modem's cost, medians): ${ratio(pico.modem.syncMs, pico.inProcess.syncMs)}`,
    )
    console.log(
      `the ${TASKS.toLocaleString('en-US')} Ed25519 signature checks alone (every picofeed block is signed; all at once, as verifyBlocks checks them): ${checks.toFixed(0)} ms, ${ratio(checks, core.syncMs)} of hypercore's join + sync`,
    )
    printTable(`modem target (issue 14), sync protocol v${PROTOCOL_VERSION}`, [
      {
        ...verdict(
          `join + sync of ${TASKS.toLocaleString('en-US')} tasks (medians): picostack over Modem56 / hypercore + hyperswarm`,
          pico.modem.syncMs / core.syncMs,
          'at most',
          TARGET_RATIO,
          formatRatio,
        ),
      },
    ])
  } finally {
    await testnet.destroy()
  }
}
