// The picostack README example: two kernels share a clock.
// Run: npx tsx --conditions=@picostack/source packages/picostack/examples/clock.ts

import { SimpleKernel } from '@picostack/kernel'
import { MemoryLevel } from 'memory-level'

const { decodeBlock } = SimpleKernel

export class Kernel extends SimpleKernel {
  constructor(db?: MemoryLevel<Uint8Array, Uint8Array>) {
    super(db)
    this.store.register({
      name: 'clock',
      initialValue: 0,
      filter({ block }) {
        const { type, time } = decodeBlock(block.body)
        if (type !== 'tick') return true // not mine
        if (time > Date.now()) return 'TimestampFromFuture'
        return false
      },
      reducer({ block }) {
        return decodeBlock(block.body).time
      },
    })
  }

  /** Appends a tick; resolves with the new block's id. */
  async createTick(): Promise<Uint8Array> {
    const feed = await this.createBlock('tick', { time: Date.now() })
    return feed.last!.sig
  }
}

/** Wires alice to bob, ticks once, and resolves when both observers saw the tick. */
export async function main(log: (line: string) => void = console.log): Promise<number> {
  const alice = new Kernel(new MemoryLevel())
  await alice.boot()
  const bob = new Kernel(new MemoryLevel())
  await bob.boot()
  let seen = 0
  let done: (time: number) => void = () => {}
  const bothSaw = new Promise<number>((resolve) => {
    done = resolve
  })
  for (const [name, kernel] of [
    ['alice', alice],
    ['bob', bob],
  ] as const) {
    kernel.store.on('clock', (time: number) => {
      if (time === 0) return
      log(`${name} sees tick ${time}`)
      if (++seen === 2) done(time)
    })
  }
  alice.spawnWire()(bob.spawnWire()) // or alice.spawnWire().open(bob.spawnWire())
  await alice.createTick() // both kernels' 'clock' observers fire
  const time = await bothSaw
  await Promise.all([alice.close(), bob.close()])
  return time
}

if (import.meta.url === `file://${process.argv[1]}`) await main()
