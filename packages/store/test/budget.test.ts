import { type Feed, toHex } from '@picostack/feed'
import { describe, expect, it } from 'vitest'
import { type ComputeContext, Memory, Store } from '../src/index.ts'
import { Author, FakeClock, memoryDb } from './helpers.ts'

/** One object per chain; it expires at the date its payload names. */
class Items extends Memory<{ until: number } | undefined> {
  override snapshot = false
  override idOf({ CHAIN }: { CHAIN: string }) {
    return CHAIN
  }
  compute(_: unknown, { payload }: ComputeContext<{ until: number } | undefined>) {
    return { until: payload.until as number }
  }
  override expiresAt(item: { until: number } | undefined) {
    return item!.until
  }
}

const BUDGET = 50_000 // bytes of held blocks (the 50 MB, scaled down 1,000x)

function open(db: ReturnType<typeof memoryDb>, clock: FakeClock) {
  const store = new Store(db, { clock, maxRepoBytes: BUDGET, cacheObjects: 8 })
  const items = store.register('item', Items)
  return { store, items }
}

async function heldBytes(store: Store): Promise<number> {
  let bytes = 0
  for (const chain of await store.repo.listFeeds()) {
    for (const block of (await store.repo.loadFeed(chain.headId))!.blocks) bytes += block.blockSize
  }
  return bytes
}

async function allItems(items: Items): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {}
  for (let q: Parameters<Items['query']>[0] = { limit: 100 }; q; ) {
    const page = await items.query(q)
    for (const { id, value } of page.items) out[id] = value
    q = page.next
  }
  return out
}

describe('storage budget', () => {
  it('keeps the repo under maxRepoBytes, keeps the chains that expire last, and a restart agrees', async () => {
    const clock = new FakeClock(1_000_000)
    const db = memoryDb()
    let { store, items } = open(db, clock)
    await store.load()
    const until = new Map<string, number>()
    const padding = 'x'.repeat(200)
    const patches: Feed[] = []
    for (let i = 0; i < 600; i++) {
      // Expiries in a scrambled order, so arrival order and rank differ.
      const at = 2_000_000 + ((i * 7919) % 600) * 1000
      const feed = new Author().append('item', { until: at, padding }, clock.now())
      until.set(toHex(feed.first!.sig), at)
      patches.push(feed)
    }
    // The budget's rule, modelled: after each write that takes the held bytes over the
    // budget, the chains held then go soonest expiry first until 90% of it is left. (A
    // chain dropped earlier stays gone, so the kept set is not the latest-expiring of all
    // chains ever offered: later chains fill the room an eviction made, whatever their rank.)
    let model: { id: string; at: number; bytes: number }[] = []
    for (const patch of patches) {
      const id = toHex(patch.first!.sig)
      model.push({ id, at: until.get(id)!, bytes: patch.first!.blockSize })
      const total = () => model.reduce((sum, chain) => sum + chain.bytes, 0)
      if (total() <= BUDGET) continue
      model.sort((a, b) => a.at - b.at)
      while (total() > BUDGET * 0.9) model = model.slice(1)
    }
    for (const patch of patches) {
      await store.dispatch(patch, { loud: true })
      expect(await heldBytes(store)).toBeLessThanOrEqual(BUDGET)
    }
    const kept = Object.keys(await allItems(items)).sort()
    expect(kept.length).toBeGreaterThan(100)
    expect(kept.length).toBeLessThan(600)
    const keptChains = (await store.repo.listFeeds()).map((c) => toHex(c.chainId)).sort()
    expect(keptChains).toEqual(kept)
    // Exactly the chains the rule keeps.
    expect(kept).toEqual(model.map((chain) => chain.id).sort())
    expect(await items.count()).toBe(kept.length)

    await store.close()
    await db.open()
    ;({ store, items } = open(db, clock))
    await store.load()
    expect(Object.keys(await allItems(items)).sort()).toEqual(kept)
    expect(await heldBytes(store)).toBeLessThanOrEqual(BUDGET)

    // The state equals a fresh store fed the blocks still held.
    const fresh = new Store(memoryDb(), { clock })
    const freshItems = fresh.register('item', Items)
    await fresh.load()
    for (const chain of await store.repo.listFeeds()) {
      await fresh.dispatch((await store.repo.loadFeed(chain.headId))!, { loud: true })
    }
    expect(await allItems(freshItems)).toEqual(await allItems(items))
    await store.close()
    await fresh.close()
  })

  it('an app-supplied rank decides which chains stay', async () => {
    const clock = new FakeClock(1_000_000)
    const keep = new Set<string>()
    const store = new Store(memoryDb(), {
      clock,
      maxRepoBytes: 5_000,
      rank: (chain) => (keep.has(toHex(chain.chainId)) ? 1 : 0),
    })
    const items = store.register('item', Items)
    await store.load()
    const first = new Author().append('item', { until: 1_500_000, padding: 'x'.repeat(200) }, 1)
    keep.add(toHex(first.first!.sig))
    await store.dispatch(first, { loud: true })
    for (let i = 0; i < 60; i++) {
      const feed = new Author().append('item', { until: 9e12, padding: 'x'.repeat(200) }, 1)
      await store.dispatch(feed, { loud: true })
    }
    expect(await items.get(toHex(first.first!.sig))).toEqual({ until: 1_500_000 })
    expect(await heldBytes(store)).toBeLessThanOrEqual(5_000)
    await store.close()
  })
})

describe('a full disk', () => {
  it('a QuotaExceededError from the database evicts the lowest-ranked chains; nothing is half written', async () => {
    const db = memoryDb()
    // A database that refuses a batch once it would hold more than QUOTA bytes, as
    // IndexedDB does when its quota is reached (nothing of the batch is written).
    const QUOTA = 40_000
    let used = 0
    const batch = db.batch.bind(db)
    type Op = { type: 'put' | 'del'; key: Uint8Array; value?: Uint8Array }
    ;(db as unknown as { batch: unknown }).batch = async (ops: Op[], options: object) => {
      let next = used
      for (const op of ops) {
        const stored = await db.get(op.key, { keyEncoding: 'view', valueEncoding: 'view' })
        if (stored) next -= op.key.length + stored.length
        if (op.type === 'put') next += op.key.length + op.value!.length
      }
      if (next > QUOTA) throw new DOMException('the quota is exceeded', 'QuotaExceededError')
      await batch(ops as never, options as never)
      used = Math.max(0, next)
    }
    const clock = new FakeClock(1_000_000)
    const store = new Store(db, { clock })
    const items = store.register('item', Items)
    await store.load()
    const until = new Map<string, number>()
    for (let i = 0; i < 200; i++) {
      const at = 2_000_000 + ((i * 7919) % 200) * 1000
      const feed = new Author().append('item', { until: at, padding: 'x'.repeat(200) }, 1)
      until.set(toHex(feed.first!.sig), at)
      const { merged, refusal } = await store.apply(feed)
      expect(refusal).toBeUndefined()
      expect(merged).toHaveLength(1)
    }
    const kept = Object.keys(await allItems(items))
    expect(kept.length).toBeGreaterThan(5) // each task costs its block and ~2 KB of keys
    expect(kept.length).toBeLessThan(200)
    expect(await items.count()).toBe(kept.length)
    expect((await store.repo.listFeeds()).length).toBe(kept.length)
    // The state is what a fresh store computes from the blocks held.
    const fresh = new Store(memoryDb(), { clock })
    const freshItems = fresh.register('item', Items)
    await fresh.load()
    for (const chain of await store.repo.listFeeds()) {
      await fresh.dispatch((await store.repo.loadFeed(chain.headId))!, { loud: true })
    }
    expect(await allItems(freshItems)).toEqual(await allItems(items))
    await store.close()
    await fresh.close()
  })
})
