import { Feed, getPublicKey, signPair } from '@picostack/feed'
import { decode } from 'cborg'
import { MemoryLevel } from 'memory-level'
import type { Clock } from '../src/clock.ts'
import { encodeBlock, type Store } from '../src/index.ts'

/** A clock tests drive by hand: timers fire only inside `advance`. */
export class FakeClock implements Clock {
  time: number
  #next = 1
  readonly #timers = new Map<number, { at: number; fn: () => void }>()

  constructor(start = 1_000_000) {
    this.time = start
  }

  now(): number {
    return this.time
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++
    this.#timers.set(id, { at: this.time + ms, fn })
    return id
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number)
  }

  /** Pending timers. */
  get pending(): number {
    return this.#timers.size
  }

  /** Moves time to `target`, firing due timers in order and letting `stores` finish. */
  async advanceTo(target: number, ...stores: Store[]): Promise<void> {
    for (;;) {
      let due: [number, { at: number; fn: () => void }] | undefined
      for (const entry of this.#timers)
        if (entry[1].at <= target && (!due || entry[1].at < due[1].at)) due = entry
      if (!due) break
      this.#timers.delete(due[0])
      this.time = Math.max(this.time, due[1].at)
      due[1].fn()
      for (const store of stores) await store.idle()
    }
    this.time = target
    for (const store of stores) await store.idle()
  }
}

/** A fresh memory-level database. */
export function memoryDb(): MemoryLevel<Uint8Array, Uint8Array> {
  return new MemoryLevel({ keyEncoding: 'view', valueEncoding: 'view' })
}

/** An author with a keypair and a feed they append to. */
export class Author {
  readonly sk: string
  readonly pk: string
  feed = new Feed()
  /** @param secret - the secret key (hex of a 32-byte seed); a random one by default */
  constructor(secret?: string) {
    const pair = secret === undefined ? signPair() : { sk: secret, pk: getPublicKey(secret) }
    this.sk = pair.sk
    this.pk = pair.pk
  }

  /** Appends a block and returns a one-block patch of it. */
  append(type: string, payload: unknown, date: number): Feed {
    this.feed.append(encodeBlock(type, payload, date), this.sk)
    return this.feed.slice(-1)
  }

  /**
   * Appends a block whose id (its signature, 64 B) starts with byte `firstByte`, found by
   * trying a `nonce` field in the payload (about 256 signatures): ids at the edge of the
   * byte range, which random keys reach once in 256 blocks.
   */
  appendEdge(type: string, payload: object, date: number, firstByte = 0xff): Feed {
    for (let nonce = 0; ; nonce++) {
      this.feed.append(encodeBlock(type, { ...payload, nonce }, date), this.sk)
      if (this.feed.last!.sig[0] === firstByte) return this.feed.slice(-1)
      this.feed.truncate(this.feed.length - 1)
    }
  }

  /** Starts a new chain (a new feed) for the next appends. */
  branch(): this {
    this.feed = new Feed()
    return this
  }
}

/** The ids (hex) of every block the repo holds, sorted. */
export async function heldIds(store: Store): Promise<string[]> {
  const out: string[] = []
  for (const summary of await store.repo.listFeeds()) {
    const feed = await store.repo.loadFeed(summary.headId)
    for (const block of feed?.blocks ?? []) out.push(Buffer.from(block.sig).toString('hex'))
  }
  return out.sort()
}

/** `feed`'s bytes with the body of block `index` changed (its signature no longer holds). */
export function forge(feed: Feed, index: number): Uint8Array {
  const bytes = feed.buffer.slice()
  let end = 4
  for (let i = 0; i <= index; i++) end += feed.block(i)!.blockSize
  bytes[end - 1]! ^= 1
  return bytes
}

/**
 * Where the store's held-block records and the repo disagree, as lines (none when they
 * agree): the repo holds exactly the blocks recorded (`h`), each in the recorded chain; an
 * `h` record names no chain exactly when its block is a genesis; a genesis has no `c` key
 * and every other held block exactly one (same chain and seq), and every `c` key names a
 * held block; each chain's held genesis (accepted before the chain's other blocks) then
 * its `c` keys (accept order) list its blocks in the repo's height order: the repo evicts a
 * prefix by height up to the last dead block they name.
 */
export async function disagreements(store: Store): Promise<string[]> {
  const registry = store.repo.registry('store')
  const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')
  const held = new Map<string, { chain: string; seq: number; genesis: boolean }>()
  for await (const [k, v] of registry.entries({
    gte: Uint8Array.of(0x68),
    lt: Uint8Array.of(0x69),
  })) {
    const [seq, chainId] = decode(v) as [number, Uint8Array | null]
    const id = hex(k.subarray(1))
    held.set(id, { chain: chainId ? hex(chainId) : id, seq, genesis: chainId === null })
  }
  const out: string[] = []
  const accepted = new Map<string, { id: string; seq: number }[]>()
  const placed = new Set<string>()
  for await (const [k, v] of registry.entries({
    gte: Uint8Array.of(0x63),
    lt: Uint8Array.of(0x64),
  })) {
    const chain = hex(k.subarray(1, 65))
    const seq = Number(new DataView(k.buffer, k.byteOffset + 65, 8).getBigUint64(0))
    const id = hex(v)
    const record = held.get(id)
    if (record?.chain !== chain || record.seq !== seq) out.push(`c ${id.slice(0, 8)} has no h`)
    if (record?.genesis) out.push(`genesis ${id.slice(0, 8)} has a c key`)
    if (placed.has(id)) out.push(`${id.slice(0, 8)} has two c keys`)
    placed.add(id)
    accepted.set(chain, [...(accepted.get(chain) ?? []), { id, seq }])
  }
  const inRepo = new Map<string, string[]>()
  for (const summary of await store.repo.listFeeds()) {
    const feed = await store.repo.loadFeed(summary.headId)
    const chain = hex(summary.chainId)
    const ids: string[] = []
    for (const block of feed?.blocks ?? []) {
      const id = hex(block.sig)
      ids.push(id)
      const record = held.get(id)
      if (record?.chain !== chain) out.push(`repo ${id.slice(0, 8)} has no h`)
      else if (record.genesis !== block.genesis) out.push(`h ${id.slice(0, 8)}: genesis is wrong`)
    }
    inRepo.set(chain, ids)
  }
  for (const [chain, ids] of inRepo) {
    const placedIds = accepted.get(chain) ?? []
    const genesis = held.get(chain)?.genesis ? held.get(chain) : undefined
    if (genesis && placedIds.some(({ seq }) => seq < genesis.seq)) {
      out.push(`chain ${chain.slice(0, 8)}: a block accepted before its genesis`)
    }
    const order = [...(genesis ? [chain] : []), ...placedIds.map(({ id }) => id)].join()
    if (order !== ids.join()) out.push(`chain ${chain.slice(0, 8)}: c order is not the repo's`)
  }
  for (const [id, { chain, genesis }] of held) {
    if (!inRepo.get(chain)?.includes(id)) out.push(`h ${id.slice(0, 8)} not in the repo`)
    if (!genesis && !placed.has(id)) out.push(`h ${id.slice(0, 8)} has no c`)
  }
  return out
}
