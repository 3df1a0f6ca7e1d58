import { utf8 } from '@picostack/feed'
import { Repo } from '@picostack/repo'
import { decode, encode } from 'cborg'
import { describe, expect, it } from 'vitest'
import { type ComputeContext, Memory, Store } from '../src/index.ts'
import {
  backingKey,
  chainBlockKey,
  concatBytes,
  heldKey,
  key,
  objectKey,
  orderEntryKey,
  seqKey,
  timerKey,
  tombstoneKey,
} from '../src/layout.ts'
import { timerFrom, tombstoneOwner } from '../src/records.ts'
import { Author, FakeClock, memoryDb } from './helpers.ts'

type Note = { text: string; until: number }

/** Notes: id `payload.id`, else the block's own id; `payload.del` deletes. */
class Notes extends Memory<Note | undefined> {
  override idOf({ payload, block }: { payload: { id?: string }; block: { sig: Uint8Array } }) {
    return payload.id ?? block.sig
  }
  compute(note: Note | undefined, ctx: ComputeContext<Note | undefined>) {
    if (ctx.payload.del) return ctx.delete()
    return { text: ctx.payload.text as string, until: note?.until ?? (ctx.payload.until as number) }
  }
  override expiresAt(note: Note | undefined) {
    return note?.until ?? 0
  }
}

const u16 = (n: number) => Uint8Array.of(n >> 8, n & 0xff)
const u64 = (n: number) => {
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, BigInt(n))
  return out
}
const tag = (t: string) => utf8(t)
const part = (bytes: Uint8Array) => concatBytes(u16(bytes.length), bytes)
const NOTES = part(utf8('notes'))
const RAW = Uint8Array.of(0xff)

/** Every registry key of the store, with its value, by key as hex. */
async function registryOf(store: Store): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>()
  for await (const [k, v] of store.repo.registry('store').entries()) {
    out.set(Buffer.from(k).toString('hex'), v.slice())
  }
  return out
}
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

describe('on-disk layout', () => {
  it('a compact id part round-trips every id, and no two ids share one', () => {
    const ids = [
      '',
      'ab',
      'AB',
      'abc',
      '00ff',
      'ff',
      '\u00ff',
      'é',
      'x'.repeat(300),
      'a'.repeat(128),
    ]
    const keys = new Set<string>()
    for (const id of ids) {
      const k = tombstoneKey('notes', id)
      keys.add(hex(k))
      expect(tombstoneOwner(k)).toEqual({ name: 'notes', id })
      const timer = { at: 5, kind: 'd' as const, name: 'notes', id }
      expect(timerFrom(timerKey(timer), new Uint8Array(0))).toEqual(timer)
    }
    expect(keys.size).toBe(ids.length)
    expect(tombstoneKey('n', 'ab')).toEqual(Uint8Array.of(0x64, 0, 1, 0x6e, 0, 2, 0xff, 0xab))
    expect(tombstoneKey('n', 'AB')).toEqual(Uint8Array.of(0x64, 0, 1, 0x6e, 0, 2, 0x41, 0x42))
  })

  it('builds every key as its parts one after the other, whatever the id, in bytes of its own', () => {
    const block = Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 1) & 0xff)
    const ids = ['ab', 'AB', 'abc', 'é', 'x'.repeat(300), 'a'.repeat(128), hex(block), '\u{1f600}']
    const built: [Uint8Array, Uint8Array][] = []
    for (const id of ids) {
      const compact = /^([0-9a-f]{2})*$/.test(id)
        ? part(concatBytes(RAW, Buffer.from(id, 'hex')))
        : part(utf8(id))
      built.push(
        [objectKey('notes', id), concatBytes(tag('o'), NOTES, utf8(id))],
        [tombstoneKey('notes', id), concatBytes(tag('d'), NOTES, compact)],
        [backingKey('notes', id, block), concatBytes(tag('b'), NOTES, compact, block)],
        [
          orderEntryKey('notes', 'ordré', `k${id}`, id),
          concatBytes(
            tag('x'),
            NOTES,
            part(utf8('ordré')),
            utf8(`k${id}`),
            Uint8Array.of(0),
            utf8(id),
          ),
        ],
        [
          timerKey({ at: 2 ** 40 + 7, kind: 'o', name: 'nötes', id }),
          concatBytes(tag('t'), u64(2 ** 40 + 7), tag('o'), part(utf8('nötes')), compact),
        ],
        [key(0x69, 'notes', id), concatBytes(tag('i'), NOTES, part(utf8(id)))],
      )
    }
    built.push(
      [heldKey(block), concatBytes(tag('h'), block)],
      [chainBlockKey(block, 2 ** 33 + 5), concatBytes(tag('c'), block, u64(2 ** 33 + 5))],
      [seqKey(concatBytes(tag('c'), block), -3), concatBytes(tag('c'), block, u64(0))],
      [
        timerKey({ at: 1.5, kind: 'e', name: 's', id: '7' }),
        concatBytes(tag('t'), u64(1), tag('e'), part(utf8('s')), part(utf8('7'))),
      ],
    )
    for (const [actual, expected] of built) expect(hex(actual)).toBe(hex(expected))
    // Keys cut from one slab (and across slabs) never share a byte: overwriting one
    // leaves every other as it was built.
    const many = Array.from({ length: 400 }, (_, i) => heldKey(block.map((b) => b ^ i)))
    for (const k of many) k.fill(0)
    for (const [actual, expected] of built) expect(hex(actual)).toBe(hex(expected))
  })

  it('writes compact ids: a hex id as its bytes, left out where it is the block id; a genesis names no chain', async () => {
    const clock = new FakeClock()
    const store = new Store(new Repo(memoryDb()), { clock })
    store.register('notes', Notes)
    await store.load()
    const until = clock.now() + 60_000
    const author = new Author()
    const genesis = author.append('notes', { text: 'own', until }, clock.now()).last!
    await store.dispatch(author.feed.slice(-1), { loud: true })
    const next = author.append('notes', { id: 'a', text: 'named', until }, clock.now()).last!
    await store.dispatch(author.feed.slice(-1), { loud: true })
    const g = genesis.sig
    const own = hex(g)
    const registry = await registryOf(store)
    const empty = new Uint8Array(0)
    // The genesis: its object's id is its own id (hex), so it has no `b` key (the `o`
    // record says the block backs it), `h` names neither its chain nor the object's id,
    // and it has no `c` key (its place in its chain is implied).
    const backing = [...registry.keys()].filter((k) => k.startsWith(hex(tag('b'))))
    expect(decode(registry.get(hex(concatBytes(tag('h'), g)))!)).toEqual([
      1,
      null,
      1,
      [['notes', null]],
      genesis.blockSize,
    ])
    const ownTimer = concatBytes(tag('t'), u64(until), tag('o'), NOTES, part(concatBytes(RAW, g)))
    expect(registry.get(hex(ownTimer))).toEqual(empty)
    // The `o` key keeps the id's UTF-8 (keys sort by id).
    const ownObject = decode(registry.get(hex(concatBytes(tag('o'), NOTES, utf8(own))))!)
    expect(ownObject).toEqual([{ text: 'own', until }, until, {}, [], true, 0])
    // The second block: a text id in full, its chain and its own id in `h` and `c`.
    const s = next.sig
    expect(backing).toEqual([hex(concatBytes(tag('b'), NOTES, part(utf8('a')), s))])
    const named = decode(registry.get(hex(concatBytes(tag('o'), NOTES, utf8('a'))))!)
    expect(named).toEqual([{ text: 'named', until }, until, {}, [], false, 1])
    expect(decode(registry.get(hex(concatBytes(tag('h'), s)))!)).toEqual([
      2,
      g,
      1,
      [['notes', 'a']],
      next.blockSize,
    ])
    const places = [...registry.keys()].filter((k) => k.startsWith(hex(tag('c'))))
    expect(places).toEqual([hex(concatBytes(tag('c'), g, u64(2)))])
    expect(registry.get(places[0]!)).toEqual(s)
    expect(decode(registry.get(hex(tag('z')))!)).toEqual([genesis.blockSize + next.blockSize, 3, 5])
    // A delete: the tombstone's key has the compact id, its value the block and expiry.
    const del = author.append('notes', { id: own, del: true }, clock.now()).last!
    await store.dispatch(author.feed.slice(-1), { loud: true })
    const grave = (await registryOf(store)).get(
      hex(concatBytes(tag('d'), NOTES, part(concatBytes(RAW, g)))),
    )
    expect(decode(grave!)).toEqual([del.sig, until])
    await store.close()
  })

  it('a registry an older store wrote is refused at load with STORE_LAYOUT, and left as it is', async () => {
    // Layout 4 wrote a `c` key for a genesis too.
    for (const older of [
      encode(1234),
      encode([1234, 3]),
      encode([1234, 3, 3]),
      encode([1234, 3, 4]),
    ]) {
      const db = memoryDb()
      const clock = new FakeClock()
      let store = new Store(new Repo(db), { clock })
      store.register('notes', Notes)
      await store.load()
      const author = new Author()
      await store.dispatch(author.append('notes', { id: 'a', text: 'one', until: 1e15 }, 1), {
        loud: true,
      })
      const registry = store.repo.registry('store')
      await store.repo.batch([registry.putOp(Uint8Array.of(0x7a), older)])
      const before = await registryOf(store)
      await store.close()

      store = new Store(new Repo(db), { clock })
      store.register('notes', Notes)
      await expect(store.load()).rejects.toMatchObject({ code: 'STORE_LAYOUT' })
      expect(await registryOf(store)).toEqual(before)
      await store.close()
    }
  })
})
