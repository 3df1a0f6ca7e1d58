import { Feed, toHex } from '@picostack/feed'
import type { Answer, Plug } from '@picostack/net'
import { decodeMessage, SimpleKernel } from '../src/index.ts'
import { ANY_SIZE } from './hostile-peer.ts'

const { decodeBlock } = SimpleKernel

/** What {@link CounterKernel} computes: order-independent, so peers holding the same blocks agree. */
export interface Tally {
  /** Blocks counted. */
  blocks: number
  /** Sum of their `n`. */
  sum: number
  /** Sum (mod 2^32) of the first 4 bytes of their ids. */
  mix: number
}

/** A kernel with one slice, `tally`, over blocks `count { n }` (negative n is rejected). */
export class CounterKernel extends SimpleKernel {
  constructor(...args: ConstructorParameters<typeof SimpleKernel>) {
    super(...args)
    this.store.register({
      name: 'tally',
      initialValue: { blocks: 0, sum: 0, mix: 0 } as Tally,
      filter({ block }) {
        const { type, n } = decodeBlock(block.body)
        if (type !== 'count') return true
        return n < 0 ? 'NegativeCount' : false
      },
      reducer({ state, block }) {
        const id = new DataView(block.sig.buffer, block.sig.byteOffset, 4).getUint32(0)
        return {
          blocks: state.blocks + 1,
          sum: state.sum + decodeBlock(block.body).n,
          mix: (state.mix + id) >>> 0,
        }
      },
    })
  }

  count(n: number, branch?: Feed): Promise<Feed> {
    return this.createBlock('count', { n }, branch)
  }

  get tally(): Tally {
    return this.store.state.tally as Tally
  }
}

/** Bytes and decoded patches that crossed a tapped wire, per direction. */
export interface TapLog {
  bytes: number
  messages: number
  /** Block ids (hex) sent in patches, per direction ('a>b', 'b>a'), in order. */
  blocks: Record<'a>b' | 'b>a', string[]>
}

type Send = (msg: Uint8Array, replyExpected?: boolean) => Promise<unknown>

/**
 * Splices `a` and `b` like `a(b)`, but sees every message (requests, replies, and the
 * rest of each conversation): counts bytes and records the blocks of every patch.
 */
export function tap(a: Plug, b: Plug): TapLog {
  const log: TapLog = { bytes: 0, messages: 0, blocks: { 'a>b': [], 'b>a': [] } }
  const see = (dir: 'a>b' | 'b>a', msg: Uint8Array) => {
    log.bytes += msg.length
    log.messages++
    try {
      const message = decodeMessage(msg, ANY_SIZE)
      if (message.type === 'patch') {
        for (const segment of message.segments) {
          for (const block of Feed.from(segment.feed, { verify: false }).blocks) {
            log.blocks[dir].push(toHex(block.sig))
          }
        }
      }
    } catch {
      // not ours to judge
    }
  }
  const relay = async (
    forward: Send,
    dir: 'a>b' | 'b>a',
    msg: Uint8Array,
    answer: Answer | undefined,
  ) => {
    let send = forward
    let back = answer
    let current = msg
    let direction = dir
    while (back) {
      see(direction, current)
      let reply: [Uint8Array, Answer | undefined]
      try {
        reply = (await send(current, true)) as [Uint8Array, Answer | undefined]
      } catch (err) {
        back.reject(err)
        return
      }
      send = back as Send
      current = reply[0]
      back = reply[1]
      direction = direction === 'a>b' ? 'b>a' : 'a>b'
    }
    see(direction, current)
    await send(current, false)
  }
  a.open((msg, answer) => relay(b.postMessage as Send, 'a>b', msg, answer))
  b.open((msg, answer) => relay(a.postMessage as Send, 'b>a', msg, answer))
  a.closed.then((reason) => b.close(reason))
  b.closed.then((reason) => a.close(reason))
  return log
}

/** Every chain of a kernel's repo as `chainId:headId:height`, sorted. */
export async function chainsOf(kernel: SimpleKernel): Promise<string[]> {
  return (await kernel.repo.listFeeds())
    .map((c) => `${toHex(c.chainId)}:${toHex(c.headId)}:${c.height}`)
    .sort()
}

/** Waits until `check()` is true (polling every 10 ms), or fails after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** True when every kernel holds the same chains with the same heads. */
export async function converged(kernels: SimpleKernel[]): Promise<boolean> {
  const all = await Promise.all(kernels.map(chainsOf))
  return all.every((chains) => chains.join() === all[0]!.join())
}

/** A deterministic pseudo-random generator (mulberry32). */
export function random(seed: number): () => number {
  let t = seed >>> 0
  return () => {
    t = (t + 0x6d2b79f5) >>> 0
    let r = Math.imul(t ^ (t >>> 15), 1 | t)
    r ^= r + Math.imul(r ^ (r >>> 7), 61 | r)
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296
  }
}
