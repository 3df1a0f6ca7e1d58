/**
 * End-to-end sync between two kernels: a sender holding a 100,000-block feed (200 B bodies)
 * and a fresh receiver whose store applies every block (signatures verified, state
 * computed, blocks written). Timed from connecting the wire to the receiver's state
 * counting the last block, over an in-process wire and over loopback TCP (streamWire on
 * both ends of a 127.0.0.1 socket). The history is built and stored at the sender
 * (repo.merge) outside the timed region. Target: >= 8,000 blocks/s. Then the to-do app's
 * shape: 10,000 chains of one block each (one per task), in-process.
 */
import { once } from 'node:events'
import net from 'node:net'
import { Feed, signPair } from '@picostack/feed'
import { SimpleKernel, streamWire } from '@picostack/kernel'
import { type Measurement, printTable, ratio } from '../measure.ts'

const BLOCKS = Number(process.env.KERNEL_BENCH_BLOCKS ?? 100_000)
/** One-block chains in the many-chains run (a tenth of BLOCKS: 10,000 by default). */
const CHAINS = Math.max(1, Math.round(BLOCKS / 10))
const BODY_BYTES = 200
const TARGET_BLOCKS_PER_SEC = 8_000
/** About what one 256 KiB patch carries at this body size. */
const BLOCKS_PER_PATCH = 800

/** A kernel whose one slice counts `count` blocks. */
class Counter extends SimpleKernel {
  constructor() {
    super()
    this.store.register({
      name: 'blocks',
      initialValue: 0,
      filter: ({ block }) => SimpleKernel.decodeBlock(block.body).type !== 'count',
      reducer: ({ state }) => state + 1,
    })
  }

  /** Resolves when the 'blocks' slice reaches `n`. */
  counted(n: number): Promise<void> {
    return new Promise((resolve) => {
      const stop = this.store.on('blocks', (count: number) => {
        if (count < n) return
        queueMicrotask(() => stop())
        resolve()
      })
    })
  }
}

/** A `count` block body of exactly BODY_BYTES (CBOR `[type, { i, pad }, date]`). */
function bodyOf(i: number): Uint8Array {
  for (let padChars = BODY_BYTES - 40; ; ) {
    const body = SimpleKernel.encodeBlock('count', { i, pad: 'x'.repeat(padChars) }, 1.7e12)
    if (body.length === BODY_BYTES) return body
    padChars += BODY_BYTES - body.length
  }
}

/** One author's feed of `n` blocks. */
function history(n: number): Feed {
  const { sk } = signPair()
  const feed = new Feed({ limits: { maxFeedBytes: 2 ** 31 - 1 } })
  for (let i = 0; i < n; i++) feed.append(bodyOf(i), sk)
  return feed
}

/** One author's `n` chains of one block each. */
function chains(n: number): Feed[] {
  const { sk } = signPair()
  return Array.from({ length: n }, (_, i) => {
    const feed = new Feed()
    feed.append(bodyOf(i), sk)
    return feed
  })
}

/** A measurement with the process's CPU time (user + system), steadier on a shared machine. */
type Timed = Measurement & { cpuMs: number }

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(start)
  return (user + system) / 1000
}

type Connect = (a: SimpleKernel, b: SimpleKernel) => Promise<() => Promise<void>>

const inProcess: Connect = async (a, b) => {
  a.spawnWire()(b.spawnWire())
  return async () => {}
}

const loopbackTcp: Connect = async (a, b) => {
  const sockets: net.Socket[] = []
  const server = net.createServer((socket) => {
    socket.setNoDelay(true)
    sockets.push(socket)
    streamWire(a.spawnWire(), socket)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1')
  client.setNoDelay(true)
  await once(client, 'connect')
  streamWire(b.spawnWire(), client)
  return async () => {
    client.destroy()
    for (const socket of sockets) socket.destroy()
    await new Promise((resolve) => server.close(resolve))
  }
}

async function syncOnce(name: string, feeds: Feed[], connect: Connect): Promise<Timed> {
  const sender = new Counter()
  const receiver = new Counter()
  await Promise.all([sender.boot(), receiver.boot()])
  // The sender's history, stored outside the timed region.
  for (const feed of feeds) await sender.repo.merge(feed)
  const blocks = feeds.reduce((n, feed) => n + feed.length, 0)
  const done = receiver.counted(blocks)
  const cpu = process.cpuUsage()
  const start = performance.now()
  const disconnect = await connect(sender, receiver)
  await done
  const ms = performance.now() - start
  const cpuMs = cpuMsSince(cpu)
  await disconnect()
  await Promise.all([sender.close(), receiver.close()])
  return { name, count: blocks, ms, perSecond: (blocks / ms) * 1000, cpuMs }
}

/**
 * The receiver's floor: the same blocks dispatched straight into a fresh kernel's store,
 * in patch-sized slices (what a receiver does without the protocol).
 */
async function storeOnly(feed: Feed): Promise<Timed> {
  const kernel = new Counter()
  await kernel.boot()
  const patches: Feed[] = []
  for (let i = 0; i < feed.length; i += BLOCKS_PER_PATCH) {
    patches.push(feed.slice(i, i + BLOCKS_PER_PATCH))
  }
  const cpu = process.cpuUsage()
  const start = performance.now()
  for (const patch of patches) await kernel.store.dispatch(patch)
  const ms = performance.now() - start
  const cpuMs = cpuMsSince(cpu)
  await kernel.close()
  return {
    cpuMs,
    name: 'store.dispatch, no sync',
    count: feed.length,
    ms,
    perSecond: (feed.length / ms) * 1000,
  }
}

export default async function (): Promise<void> {
  const feed = history(BLOCKS)
  const bytes = feed.buffer.length
  const blockBytes = bytes / feed.length
  const baselineFeed = feed.slice(0, Math.min(BLOCKS, 10_000))
  await syncOnce('warm-up', [feed.slice(0, 2_000)], inProcess) // JIT, untimed
  const baseline = await storeOnly(baselineFeed)
  const rows = [baseline]
  for (const [name, connect] of [
    ['in-process wire', inProcess],
    ['loopback TCP', loopbackTcp],
  ] as const) {
    rows.push(await syncOnce(name, [feed], connect))
  }
  rows.push(
    await syncOnce(`${CHAINS.toLocaleString('en-US')} one-block chains`, chains(CHAINS), inProcess),
  )
  printTable(
    `kernel sync: ${BLOCKS.toLocaleString('en-US')} blocks of ${BODY_BYTES} B bodies (${(bytes / 1e6).toFixed(1)} MB), target ${TARGET_BLOCKS_PER_SEC.toLocaleString('en-US')} blocks/s`,
    rows.map((m) => ({
      run: m.name,
      blocks: m.count,
      'time (ms)': m.ms,
      'CPU (ms)': m.cpuMs,
      'blocks/s': m.perSecond,
      'blocks/CPU-s': (m.count / m.cpuMs) * 1000,
      'MB/s': ((((m.count * blockBytes) / m.ms) * 1000) / 1e6).toFixed(2),
      'vs target': ratio(m.perSecond, TARGET_BLOCKS_PER_SEC),
      'vs store only (CPU)': ratio(m.count / m.cpuMs, baseline.count / baseline.cpuMs),
    })),
  )
}
