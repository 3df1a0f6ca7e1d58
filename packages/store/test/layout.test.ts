import { Repo } from '@picostack/repo'
import { decode, encode } from 'cborg'
import { describe, expect, it } from 'vitest'
import { type ComputeContext, Memory, Store } from '../src/index.ts'
import { Author, FakeClock, memoryDb } from './helpers.ts'

class Notes extends Memory<{ text: string } | undefined> {
  override idOf({ payload }: { payload: { id: string } }) {
    return payload.id
  }
  compute(_: unknown, { payload }: ComputeContext<{ text: string } | undefined>) {
    return { text: payload.text as string }
  }
}

describe('on-disk layout', () => {
  it('a registry in the layout before this one (z a bare number, accept records) is replayed into this one at load', async () => {
    const db = memoryDb()
    const clock = new FakeClock()
    let store = new Store(new Repo(db), { clock })
    let notes = store.register('notes', Notes)
    await store.load()
    const author = new Author()
    await store.dispatch(author.append('notes', { id: 'a', text: 'one' }, clock.now()), {
      loud: true,
    })
    await store.dispatch(author.append('notes', { id: 'b', text: 'two' }, clock.now()), {
      loud: true,
    })
    const registry = store.repo.registry('store')
    const z = Uint8Array.of(0x7a)
    const [bytes] = decode((await registry.get(z))!) as [number, number]
    // What the previous layout wrote: the bytes alone under `z`, an `a` key per block.
    await store.repo.batch([
      registry.putOp(z, encode(bytes)),
      registry.putOp(Uint8Array.of(0x61, 0, 0, 0, 0, 0, 0, 0, 1), encode([1])),
    ])
    await store.close()

    store = new Store(new Repo(db), { clock })
    notes = store.register('notes', Notes)
    await store.load()
    expect(store.state.notes).toEqual({ a: { text: 'one' }, b: { text: 'two' } })
    expect(decode((await registry.get(z))!)).toEqual([bytes, 3]) // two blocks held: seq 3 next
    expect(await registry.get(Uint8Array.of(0x61, 0, 0, 0, 0, 0, 0, 0, 1))).toBeUndefined()
    await store.dispatch(author.append('notes', { id: 'a', text: 'three' }, clock.now()), {
      loud: true,
    })
    expect(await notes.get('a')).toEqual({ text: 'three' })
    await store.close()
  })
})
