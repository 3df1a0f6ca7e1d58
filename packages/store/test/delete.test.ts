import { toHex } from '@picostack/feed'
import { Repo } from '@picostack/repo'
import { describe, expect, it } from 'vitest'
import { type ComputeContext, Memory, type ObjectChange, Store } from '../src/index.ts'
import { Author, FakeClock, heldIds, memoryDb } from './helpers.ts'

interface Note {
  text: string
  author: string
  expiresAt: number
}

const TTL_MS = 10_000

/** Notes by id; `{ id, del: true }` deletes one, and only its author may. */
class Notes extends Memory<Note | undefined> {
  override idOf({ payload }: { payload: { id: string } }) {
    return payload.id
  }
  compute(note: Note | undefined, ctx: ComputeContext<Note | undefined>) {
    const { payload, AUTHOR, date } = ctx
    if (note && note.author !== AUTHOR) return ctx.reject('NotAuthor')
    if (payload.del) return ctx.delete()
    return { text: payload.text, author: AUTHOR, expiresAt: date + TTL_MS }
  }
  override expiresAt(note: Note | undefined) {
    return note?.expiresAt ?? 0
  }
}

const T0 = 1_000_000

function open(clock: FakeClock, repo = new Repo(memoryDb()), options = {}) {
  const store = new Store(repo, { clock, ...options })
  const notes = store.register('notes', Notes)
  return { store, notes }
}

/** Keys of the store's registry that start with `tag`. */
async function registryKeys(store: Store, tag: string): Promise<number> {
  let count = 0
  const first = tag.charCodeAt(0)
  const range = { gte: Uint8Array.of(first), lt: Uint8Array.of(first + 1) }
  for await (const _ of store.repo.registry('store').entries(range)) count++
  return count
}

describe('deleting a collection object', () => {
  it('its author deletes it: every read forgets it, a tombstone keeps it gone, then both go', async () => {
    const clock = new FakeClock(T0)
    const { store, notes } = open(clock)
    await store.load()
    const alice = new Author()
    const create = alice.append('notes', { id: 'n1', text: 'milk' }, T0)
    await store.dispatch(create, { loud: true })
    const changes: ObjectChange<Note | undefined>[] = []
    notes.onChange((change) => changes.push(change))

    const del = alice.append('notes', { id: 'n1', del: true }, T0 + 100)
    const result = await store.apply(del)
    expect(result.refusal).toBeUndefined()
    expect(result.merged.map((b) => toHex(b.sig))).toEqual([toHex(del.blocks[0]!.sig)])
    expect(notes.state.n1).toBeUndefined()
    expect(await notes.get('n1')).toBeUndefined()
    expect(await notes.count()).toBe(0)
    expect(changes).toEqual([{ id: 'n1', value: undefined }])
    expect(await registryKeys(store, 'd')).toBe(1)
    expect(await registryKeys(store, 'o')).toBe(0)
    // The create block backs nothing and left the disk; the delete block backs the tombstone.
    expect(await heldIds(store)).toEqual([toHex(del.blocks[0]!.sig)])

    // The create block sent again, and a new block for the same id, do not bring it back.
    expect((await store.apply(create)).refusal?.code).toBe('STORE_EXPIRED')
    const again = alice.append('notes', { id: 'n1', text: 'eggs' }, T0 + 200)
    expect((await store.apply(again)).refusal?.code).toBe('STORE_EXPIRED')
    expect(await notes.get('n1')).toBeUndefined()
    expect(await heldIds(store)).toEqual([toHex(del.blocks[0]!.sig)])

    // At the object's natural expiry the tombstone goes, and the delete block with it.
    await clock.advanceTo(T0 + TTL_MS, store)
    expect(await registryKeys(store, 'd')).toBe(0)
    expect(await registryKeys(store, 't')).toBe(0)
    expect(await heldIds(store)).toEqual([])
    await store.close()
  })

  it('refuses a delete by someone else: the object stays', async () => {
    const clock = new FakeClock(T0)
    const { store, notes } = open(clock)
    await store.load()
    const alice = new Author()
    const mallory = new Author()
    await store.dispatch(alice.append('notes', { id: 'n1', text: 'milk' }, T0), { loud: true })
    const attack = await store.apply(mallory.append('notes', { id: 'n1', del: true }, T0 + 1))
    expect(attack.refusal?.code).toBe('STORE_REJECTED')
    expect(attack.merged).toEqual([])
    expect((await notes.get('n1'))?.text).toBe('milk')
    expect(await registryKeys(store, 'd')).toBe(0)
    await store.close()
  })

  it('a stranger cannot pre-delete: a delete that arrives before the object does nothing', async () => {
    const clock = new FakeClock(T0)
    const { store, notes } = open(clock)
    await store.load()
    const alice = new Author()
    const mallory = new Author()
    // Mallory's delete comes first: there is no object to check the rule against.
    const early = await store.apply(mallory.append('notes', { id: 'n1', del: true }, T0))
    expect(early.refusal?.code).toBe('STORE_EXPIRED')
    expect(await heldIds(store)).toEqual([])
    expect(await registryKeys(store, 'd')).toBe(0)
    await store.dispatch(alice.append('notes', { id: 'n1', text: 'milk' }, T0 + 1), { loud: true })
    expect((await notes.get('n1'))?.text).toBe('milk')
    await store.close()
  })

  it("the author's delete that arrives before its object (same chain) waits for it, then applies", async () => {
    const clock = new FakeClock(T0)
    const { store, notes } = open(clock)
    await store.load()
    const alice = new Author()
    const create = alice.append('notes', { id: 'n1', text: 'milk' }, T0)
    const del = alice.append('notes', { id: 'n1', del: true }, T0 + 1)
    expect((await store.apply(del)).refusal?.code).toBe('STORE_POSTPONED')
    const result = await store.apply(create)
    expect(result.merged).toHaveLength(2)
    expect(await notes.get('n1')).toBeUndefined()
    expect(await registryKeys(store, 'd')).toBe(1)
    await store.close()
  })

  it('survives a restart and a reload: the re-sent object stays deleted, the tombstone still expires', async () => {
    const clock = new FakeClock(T0)
    const repo = new Repo(memoryDb())
    let { store, notes } = open(clock, repo)
    await store.load()
    const alice = new Author()
    const create = alice.append('notes', { id: 'n1', text: 'milk' }, T0)
    await store.dispatch(create, { loud: true })
    await store.dispatch(alice.append('notes', { id: 'n1', del: true }, T0 + 1), { loud: true })
    await store.close()

    ;({ store, notes } = open(clock, repo))
    await store.load()
    expect(notes.state.n1).toBeUndefined()
    expect((await store.apply(create)).refusal?.code).toBe('STORE_EXPIRED')
    await store.reload()
    expect((await store.apply(create)).refusal?.code).toBe('STORE_EXPIRED')
    expect(await notes.count()).toBe(0)
    expect(await registryKeys(store, 'd')).toBe(1)
    await store.close()

    // Closed across the tombstone's expiry: load() catches up and the blocks go.
    clock.time = T0 + TTL_MS + 1
    ;({ store, notes } = open(clock, repo))
    await store.load()
    expect(await registryKeys(store, 'd')).toBe(0)
    expect(await heldIds(store)).toEqual([])
    // After the tombstone, the id is free again (a new chain: the old one left the disk).
    await store.dispatch(alice.branch().append('notes', { id: 'n1', text: 'tea' }, clock.now()), {
      loud: true,
    })
    expect((await notes.get('n1'))?.text).toBe('tea')
    await store.close()
  })

  it('a tombstone whose delete block the storage budget drops goes with it', async () => {
    const clock = new FakeClock(T0)
    const rankOf = new Map<string, number>()
    const rank = (chain: { chainId: Uint8Array }) => rankOf.get(toHex(chain.chainId)) ?? 1
    const { store, notes } = open(clock, undefined, { maxRepoBytes: 1500, rank })
    await store.load()
    const alice = new Author()
    const create = alice.append('notes', { id: 'n1', text: 'milk' }, T0)
    // The delete on a chain of its own, which the budget ranks lowest.
    const padding = 'p'.repeat(500)
    const del = alice.branch().append('notes', { id: 'n1', del: true, padding }, T0 + 1)
    rankOf.set(toHex(del.blocks[0]!.sig), 0)
    await store.dispatch(create, { loud: true })
    await store.dispatch(del, { loud: true })
    expect(await registryKeys(store, 'd')).toBe(1)
    expect(await heldIds(store)).toEqual([toHex(del.blocks[0]!.sig)])

    // A large note takes the store over its budget: the delete's chain goes, and the
    // tombstone with it (nothing backs it any more).
    const big = new Author().append('notes', { id: 'n2', text: 'x'.repeat(900) }, T0 + 2)
    await store.dispatch(big, { loud: true })
    expect(await heldIds(store)).toEqual([toHex(big.blocks[0]!.sig)])
    expect(await registryKeys(store, 'd')).toBe(0)
    expect(await notes.get('n1')).toBeUndefined()
    expect((await notes.get('n2'))?.text).toHaveLength(900)
    await store.close()
  })
})
