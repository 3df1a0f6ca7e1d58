import { describe, expect, it } from 'vitest'
import { type BlockContext, Memory, Store } from '../src/index.ts'
import { Author, FakeClock, memoryDb } from './helpers.ts'

describe('ctx.genesis', () => {
  it('is true only for a chain-starting block; a partial chain start has no parentBlock and is no genesis', async () => {
    const seen: { genesis: boolean; parent: boolean; n: number }[] = []
    const store = new Store(memoryDb(), { clock: new FakeClock() })
    store.register(
      'notes',
      class extends Memory<number> {
        override idOf({ payload }: BlockContext) {
          return payload.id
        }
        compute(_: number, ctx: BlockContext) {
          seen.push({
            genesis: ctx.genesis,
            parent: ctx.parentBlock !== undefined,
            n: ctx.payload.n,
          })
          return ctx.payload.n
        }
      },
    )
    await store.load()
    const alice = new Author()
    await store.dispatch(alice.append('notes', { id: 'a', n: 1 }, 1), { loud: true })
    await store.dispatch(alice.append('notes', { id: 'a', n: 2 }, 2), { loud: true })
    const bob = new Author()
    bob.append('notes', { id: 'b', n: 3 }, 3) // never sent: the receiver lacks it
    const second = bob.append('notes', { id: 'b', n: 4 }, 4)
    await store.dispatch(second, { loud: true, chainId: bob.feed.first!.sig, height: 2 })
    expect(seen).toEqual([
      { genesis: true, parent: false, n: 1 },
      { genesis: false, parent: true, n: 2 },
      { genesis: false, parent: false, n: 4 },
    ])
    await store.close()
  })
})
