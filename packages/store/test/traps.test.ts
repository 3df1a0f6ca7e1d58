import { describe, expect, it } from 'vitest'
import { type ComputeContext, Memory, type Mutate, type Signal, Store } from '../src/index.ts'
import { Author, FakeClock, heldIds, memoryDb } from './helpers.ts'

interface Profile {
  name: string
  hp: number
}

class Profiles extends Memory<Profile | undefined> {
  compute(_: Profile | undefined, { payload }: ComputeContext<Profile | undefined>) {
    return { name: payload.name, hp: 1 }
  }
  override trap(signal: Signal, mutate: Mutate<Profile | undefined>) {
    if (signal.type !== 'bumped') return
    mutate(signal.payload.target, (p) => (p ? { ...p, hp: p.hp + 1 } : p))
  }
}

/** A bump raises a signal; it lives 1000 ms from its date. */
class Bumps extends Memory<{ target: string } | undefined> {
  override idOf({ block }: { block: { sig: Uint8Array } }) {
    return block.sig
  }
  compute(_: unknown, { payload, signal, root }: ComputeContext<{ target: string } | undefined>) {
    if (!(root.profiles as Record<string, unknown>)[payload.target]) return undefined
    signal('bumped', { target: payload.target })
    return { target: payload.target }
  }
  override expiresAt(_: unknown, { date }: ComputeContext<unknown>) {
    return date + 1000
  }
}

describe('signals and traps', () => {
  it('traps see signals after the block merges; the signalling block backs what they change', async () => {
    const clock = new FakeClock(0)
    const store = new Store(memoryDb(), { clock })
    const profiles = store.register('profiles', Profiles)
    store.register('bumps', Bumps)
    store.register<number>({
      name: 'bumpCount',
      initialValue: 0,
      filter: () => true, // no block of its own: only signals
      reducer: ({ state }) => state,
      trap: (signal, state) => (signal.type === 'bumped' ? state + 1 : undefined),
      expiresAt: ({ date }) => date + 500,
    })
    await store.load()
    const alice = new Author()
    const bob = new Author()
    await store.dispatch(alice.append('profiles', { name: 'alice' }, 0), { loud: true })
    await store.dispatch(bob.branch().append('bumps', { target: alice.pk }, 0), { loud: true })
    expect(profiles.readState(alice.pk)).toEqual({ name: 'alice', hp: 2 })
    expect(store.state.bumpCount).toBe(1)

    await store.reload()
    expect(profiles.readState(alice.pk)).toEqual({ name: 'alice', hp: 2 })
    expect(store.state.bumpCount).toBe(1)

    await clock.advanceTo(500, store) // the slice's trap entry expires: recomputed without it
    expect(store.state.bumpCount).toBe(0)
    await clock.advanceTo(1000, store) // the bump is forgotten; the profile still holds its block
    expect(Object.keys(store.state.bumps as object)).toEqual([])
    expect((await heldIds(store)).length).toBe(2)
    await store.close()
  })
})
