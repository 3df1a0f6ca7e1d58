/**
 * Feed throughput: append+sign and `Feed.from(bytes)` verification of 10,000 blocks with
 * 200-byte bodies, for each crypto backend of @picostack/feed, beside picofeed 8.0.5 and
 * beside bare node:crypto Ed25519 (the ceiling for the node backend on this machine).
 */
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto'
import {
  bytesEqual,
  type Ed25519,
  Feed,
  fromHex,
  nobleEd25519,
  nodeEd25519,
  SIG_BYTES,
  signPair,
  useEd25519,
  webCryptoEd25519,
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
  rows.push(...(await ours(nobleEd25519, NOBLE_BLOCKS)))

  const web = await webCryptoEd25519()
  if (web) {
    const bytes = appendOurs(BLOCKS).buffer.slice()
    // verifyBatch prefers the node backend when it is active: make noble the synchronous
    // backend so Feed.fromAsync takes the WebCrypto path (which runs on libuv's threads).
    rows.push(
      await withBackend(nobleEd25519, () =>
        measure('Feed.fromAsync verify (webcrypto)', BLOCKS, async () => {
          if ((await Feed.fromAsync(bytes)).length !== BLOCKS) throw new Error('lost blocks')
        }),
      ),
    )
  }

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
  printTable('feed: ours (node backend) / picofeed 8.0.5', [
    { figure: 'append+sign', ratio: ratio(nodeAppend.perSecond, pfAppend.perSecond) },
    { figure: 'Feed.from verify', ratio: ratio(nodeVerify.perSecond, pfVerify.perSecond) },
  ])
}
