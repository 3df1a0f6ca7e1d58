/**
 * Feed throughput: append+sign and `Feed.from(bytes)` verification of 10,000 blocks with
 * 200-byte bodies, for each synchronous crypto backend of @picostack/feed (node:crypto,
 * libsodium where sodium-native is installed, noble), beside picofeed 8.0.5 and
 * beside bare node:crypto Ed25519 (the ceiling for the node backend on this machine); and
 * the batch verifiers: verifyBatch's libsodium worker threads beside WebCrypto on libuv's
 * thread pool.
 */
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto'
import { cpuUsage } from 'node:process'
import {
  bytesEqual,
  type Ed25519,
  Feed,
  fromHex,
  nobleEd25519,
  nodeEd25519,
  SIG_BYTES,
  signPair,
  sodiumEd25519,
  useEd25519,
  webCryptoEd25519,
  workerVerifier,
} from '@picostack/feed'
import * as picofeed from 'picofeed'
import { type Measurement, measure, printTable, ratio } from '../measure.ts'

const BLOCKS = 10_000
const BODY_BYTES = 200
/** noble is ~10x slower than node: fewer blocks keep the suite short; rates stay per second. */
const NOBLE_BLOCKS = 1_000

const { sk } = signPair()
/** One 200-byte body per block (distinct, first byte never 0x00). */
const bodies = Array.from({ length: BLOCKS }, (_, i) => {
  const body = new Uint8Array(BODY_BYTES).fill(0x61)
  body.set(new TextEncoder().encode(String(i)))
  return body
})

function appendOurs(count: number): Feed {
  const feed = new Feed()
  for (let i = 0; i < count; i++) feed.append(bodies[i]!, sk)
  return feed
}

/** Process CPU of one run of `fn` (every thread: worker threads and libuv's pool too), us. */
async function cpuUs(fn: () => Promise<void>): Promise<number> {
  const start = cpuUsage()
  await fn()
  const { user, system } = cpuUsage(start)
  return user + system
}

/** Runs `fn` with `impl` as the synchronous backend, restoring the previous one after. */
async function withBackend<T>(impl: Ed25519, fn: () => Promise<T>): Promise<T> {
  const previous = useEd25519(impl)
  try {
    return await fn()
  } finally {
    useEd25519(previous)
  }
}

async function ours(impl: Ed25519, count: number): Promise<[Measurement, Measurement]> {
  return withBackend(impl, async () => {
    const append = await measure(`append+sign (${impl.name})`, count, () => appendOurs(count))
    const bytes = appendOurs(count).buffer.slice()
    const verified = await measure(`Feed.from verify (${impl.name})`, count, () => {
      if (Feed.from(bytes).length !== count) throw new Error('lost blocks')
    })
    return [append, verified]
  })
}

/** The same signatures and checks through node:crypto directly: no feed, no decoding. */
async function bareNodeCrypto(messages: Uint8Array[]): Promise<Measurement[]> {
  const pkcs8 = fromHex('302e020100300506032b657004220420')
  const key = createPrivateKey({
    key: Buffer.concat([pkcs8, fromHex(sk)]),
    format: 'der',
    type: 'pkcs8',
  })
  const publicKey = createPublicKey(key)
  const sigs = messages.map((m) => sign(null, m, key))
  return [
    await measure('node:crypto sign alone (ceiling)', messages.length, () => {
      for (const m of messages) sign(null, m, key)
    }),
    await measure('node:crypto verify alone (ceiling)', messages.length, () => {
      for (const [i, m] of messages.entries()) {
        if (!verify(null, m, publicKey, sigs[i]!)) throw new Error('bad signature')
      }
    }),
  ]
}

export default async function feedSuite(): Promise<void> {
  if (!nodeEd25519) throw new Error('the feed suite runs in Node')
  const rows: Measurement[] = []
  const [nodeAppend, nodeVerify] = await ours(nodeEd25519, BLOCKS)
  rows.push(nodeAppend, nodeVerify)
  rows.push(
    ...(await bareNodeCrypto(appendOurs(BLOCKS).blocks.map((b) => b.buffer.subarray(SIG_BYTES)))),
  )
  const sodium = sodiumEd25519()
  if (sodium) rows.push(...(await ours(sodium, BLOCKS)))
  rows.push(...(await ours(nobleEd25519, NOBLE_BLOCKS)))

  // The batch verifiers side by side: verifyBatch's libsodium workers and WebCrypto on
  // libuv's thread pool (what verifyBatch used before them, and still does while they load).
  const blocks = appendOurs(BLOCKS).blocks
  const items = blocks.map((b) => ({
    sig: b.sig,
    message: b.buffer.subarray(SIG_BYTES),
    publicKey: b.key!,
  }))
  const allValid = (verdicts: boolean[]) => {
    if (verdicts.length !== BLOCKS || verdicts.includes(false)) throw new Error('bad signature')
  }
  const batchCpu: Record<string, string | number>[] = []
  const batch = async (name: string, run: () => Promise<boolean[]>) => {
    const once = async () => allValid(await run())
    rows.push(await measure(name, BLOCKS, once))
    batchCpu.push({ case: name, 'CPU us per signature': (await cpuUs(once)) / BLOCKS })
  }
  const workers = workerVerifier()
  if (workers) {
    while (!workers.ready) await new Promise((resolve) => setTimeout(resolve, 10))
    await batch('verifyBatch: libsodium on worker threads', () => workers.verify(items))
  }
  const web = await webCryptoEd25519()
  if (web) {
    await batch('WebCrypto, 1,024 in flight (libuv pool)', async () => {
      const verdicts: boolean[] = []
      for (let at = 0; at < BLOCKS; at += 1024) {
        const chunk = items.slice(at, at + 1024)
        verdicts.push(
          ...(await Promise.all(chunk.map((i) => web.verify(i.sig, i.message, i.publicKey)))),
        )
      }
      return verdicts
    })
  }
  const bytes = appendOurs(BLOCKS).buffer.slice()
  rows.push(
    await measure('Feed.fromAsync verify (verifyBatch)', BLOCKS, async () => {
      if ((await Feed.fromAsync(bytes)).length !== BLOCKS) throw new Error('lost blocks')
    }),
  )

  // picofeed takes ~40 s for these two figures; run each once (no warm-up run).
  let reference = new picofeed.Feed()
  const pfAppend = await measure(
    'picofeed 8.0.5 append+sign',
    BLOCKS,
    () => {
      reference = new picofeed.Feed()
      for (let i = 0; i < BLOCKS; i++) reference.append(bodies[i]!, sk)
    },
    { warmup: 0 },
  )
  const pfBytes = reference.buffer.slice()
  const pfVerify = await measure(
    'picofeed 8.0.5 Feed.from verify',
    BLOCKS,
    () => {
      if (picofeed.feedFrom(pfBytes).length !== BLOCKS) throw new Error('lost blocks')
    },
    { warmup: 0 },
  )
  rows.push(pfAppend, pfVerify)
  // like for like: both libraries write the very same bytes for the same bodies and key
  if (!bytesEqual(pfBytes, appendOurs(BLOCKS).buffer)) throw new Error('feeds differ')

  printTable(
    `feed: ${BLOCKS.toLocaleString('en-US')} blocks x ${BODY_BYTES} B bodies (noble: ${NOBLE_BLOCKS.toLocaleString('en-US')} blocks)`,
    rows.map((m) => ({ case: m.name, blocks: m.count, ms: m.ms, 'blocks/s': m.perSecond })),
  )
  printTable('feed: batch verifiers, process CPU (every thread) of one run', batchCpu)
  printTable('feed: ours (node backend) / picofeed 8.0.5', [
    { figure: 'append+sign', ratio: ratio(nodeAppend.perSecond, pfAppend.perSecond) },
    { figure: 'Feed.from verify', ratio: ratio(nodeVerify.perSecond, pfVerify.perSecond) },
  ])
}
