/**
 * Blocks without an author header (picofeed's header is optional; `append` always writes
 * it): such a block verifies under the key of one of the KEYLESS_CANDIDATES authors of the
 * latest keyed blocks before it.
 */
import { describe, expect, it } from 'vitest'
import { Feed, FeedError, KEYLESS_CANDIDATES, toHex } from '../src/index.ts'
import { authorHeader, concat, parentHeader, rawBlock } from './raw.ts'

const ALICE = 'a1'.repeat(32)
const BOB = 'b0'.repeat(32)
const body = (text: string) => [...new TextEncoder().encode(text)]

/** Bytes of a chain; each step is [signer, whether the block names its author, body]. */
function chain(steps: [secret: string, keyed: boolean, text: string][]): Uint8Array {
  const blocks: Uint8Array[] = []
  for (const [secret, keyed, text] of steps) {
    const previous = blocks.at(-1)
    const headers = [
      ...(keyed ? authorHeader(secret) : []),
      ...(previous ? parentHeader(previous.subarray(0, 64)) : []),
    ]
    blocks.push(rawBlock([...headers, ...body(text)], secret))
  }
  return concat(...blocks)
}

async function codes(bytes: Uint8Array): Promise<[string | undefined, string | undefined]> {
  const sync = (() => {
    try {
      Feed.from(bytes)
    } catch (err) {
      if (err instanceof FeedError) return err.code
      throw err
    }
  })()
  const async = await Feed.fromAsync(bytes).then(
    () => undefined,
    (err: unknown) => {
      if (err instanceof FeedError) return err.code
      throw err
    },
  )
  return [sync, async]
}

describe('keyless blocks', () => {
  it('verify under a recent author, most recent or not', async () => {
    const bytes = chain([
      [ALICE, true, 'alice says hi'],
      [ALICE, false, 'alice again, unnamed'],
      [BOB, true, 'bob joins'],
      [ALICE, false, 'alice, unnamed, after bob'],
      [BOB, false, 'bob, unnamed'],
    ])
    expect(await codes(bytes)).toEqual([undefined, undefined])
    const feed = Feed.from(bytes)
    expect(feed.length).toBe(5)
    expect(feed.block(1)!.key).toBeUndefined()
    expect(feed.keys.length).toBe(2)
    expect(toHex(feed.buffer.subarray(4))).toBe(toHex(bytes))
  })

  it('fail with FEED_SIGNATURE when their signer has not appeared yet', async () => {
    const bytes = chain([
      [ALICE, true, 'alice'],
      [BOB, false, 'bob, unnamed, before naming himself'],
      [BOB, true, 'bob'],
    ])
    expect(await codes(bytes)).toEqual(['FEED_SIGNATURE', 'FEED_SIGNATURE'])
    expect(await codes(chain([[ALICE, false, 'nobody named']]))).toEqual([
      'FEED_SIGNATURE',
      'FEED_SIGNATURE',
    ])
  })

  it('check in one pass over a long run of keyless blocks', () => {
    const steps: [string, boolean, string][] = [[ALICE, true, 'named']]
    for (let i = 0; i < 400; i++) steps.push([ALICE, false, `unnamed ${i}`])
    expect(Feed.from(chain(steps)).length).toBe(401)
  })

  it('are checked against the latest KEYLESS_CANDIDATES authors only (bounded work)', async () => {
    const others = Array.from({ length: KEYLESS_CANDIDATES }, (_, i) => `${i + 1}c`.repeat(32))
    const steps: [string, boolean, string][] = [[ALICE, true, 'alice']]
    for (const other of others) steps.push([other, true, 'someone else'])
    expect(await codes(chain([...steps, [others[0]!, false, 'within reach']]))).toEqual([
      undefined,
      undefined,
    ])
    expect(await codes(chain([...steps, [ALICE, false, 'too far back']]))).toEqual([
      'FEED_SIGNATURE',
      'FEED_SIGNATURE',
    ])
    // Naming alice again brings her back among the candidates.
    const renamed = chain([...steps, [ALICE, true, 'alice again'], [ALICE, false, 'unnamed']])
    expect(await codes(renamed)).toEqual([undefined, undefined])
  })
})
