import { Feed, signPair, toHex } from '@picostack/feed'
import type { Plug } from '@picostack/net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { decodeMessage, encodeMessage, type Message, PROTOCOL_VERSION } from '../src/index.ts'
import { CounterKernel, chainsOf, converged, until } from './helpers.ts'

const LIMITS = { maxSummaryChains: 1e9, maxPatchChains: 1e9, maxQueryBytes: 1e9 }

/** Says hello on `plug`, then sends one patch segment and returns the kernel's reply. */
async function sendSegment(
  plug: Plug,
  feed: Feed,
  chainId: Uint8Array,
  height: number,
): Promise<Message> {
  plug.open(() => undefined)
  const nodeId = crypto.getRandomValues(new Uint8Array(16))
  const nonce = crypto.getRandomValues(new Uint8Array(8))
  await plug.postMessage(encodeMessage({ type: 'hello', version: PROTOCOL_VERSION, nodeId, nonce }))
  const segment = { chainId, height, feed: feed.buffer }
  const [reply] = await plug.postMessage(
    encodeMessage({ type: 'patch', segments: [segment] }),
    true,
  )
  return decodeMessage(reply, LIMITS)
}

/** Mallory's block: signed by her, its parent a block nobody holds. */
function forgedParentBlock(): Feed {
  const { sk } = signPair()
  const feed = new Feed()
  feed.append(CounterKernel.encodeBlock('count', { n: 1000 }), sk) // never sent
  feed.append(CounterKernel.encodeBlock('count', { n: 666 }), sk)
  return feed.slice(1)
}

let alice: CounterKernel
let bob: CounterKernel
beforeEach(async () => {
  alice = new CounterKernel()
  bob = new CounterKernel()
  await Promise.all([alice.boot(), bob.boot()])
  await alice.count(1)
  await alice.count(2)
})
afterEach(async () => {
  await Promise.all([alice.close(), bob.close()])
})

describe('chain-id squatting through the sync protocol', () => {
  for (const height of [1, 2, 3, 65_536, 4_000_000_000]) {
    it(`a squat under a real chain's id at claimed height ${height} loses to the genuine chain`, async () => {
      const chainId = (await alice.repo.listFeeds())[0]!.chainId
      const squat = forgedParentBlock()
      const reply = await sendSegment(bob.spawnWire(), squat, chainId, height)
      expect(reply.type).toBe('ack')
      expect(bob.tally).toMatchObject({ blocks: 1, sum: 666 }) // a claim, taken as a hint

      alice.spawnWire()(bob.spawnWire())
      await until(() => converged([alice, bob]))
      expect(bob.tally).toEqual(alice.tally)
      expect(bob.tally).toMatchObject({ blocks: 2, sum: 3 })
      expect(await chainsOf(bob)).toEqual(await chainsOf(alice))
      expect(await bob.repo.hasBlock(squat.first!.sig)).toBe(false)
      const held = await bob.repo.resolveFeed(chainId)
      expect(held?.blocks.map((b) => toHex(b.sig))).toEqual(
        (await alice.repo.resolveFeed(chainId))?.blocks.map((b) => toHex(b.sig)),
      )
    })
  }
})
