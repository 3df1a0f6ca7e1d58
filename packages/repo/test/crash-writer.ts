/**
 * Child process of the crash test: opens (or reopens) a classic-level repo at argv[2] and
 * writes to it until it is killed: merges of new blocks for several authors (foreign
 * appends included), rollbacks, prefix evictions and registry writes. Prints "ready" once
 * it has started writing.
 */
import { Feed, signPair } from '@picostack/feed'
import { ClassicLevel } from 'classic-level'
import { Repo } from '../src/index.ts'

const [dir, seedText] = process.argv.slice(2)
let seed = Number(seedText) || 1
/** Deterministic pseudo-random integer in [0, n) (mulberry32). */
function random(n: number): number {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n)
}

const authors = Array.from({ length: 4 }, () => signPair())
const repo = new Repo(new ClassicLevel(dir!), { strategy: () => true })
const registry = repo.registry('crash')
const body = new Uint8Array(200).fill(0x61)
let announced = false

for (let round = 0; ; round++) {
  const author = authors[random(authors.length)]!
  const action = random(20)
  const heads = await repo.listFeeds()
  const target = heads[random(heads.length + 1)]
  if (action === 0 && target) {
    await repo.rollback(target.chainId, target.length > 1 ? target.firstId : undefined)
  } else if (action === 1 && target && target.length > 1) {
    await repo.evictPrefix(target.chainId, target.firstId, {
      ops: [registry.putOp(`evicted:${round}`, target.firstId)],
    })
  } else {
    // Extend an existing chain (maybe someone else's: a foreign append), or start one.
    const base = target ? await repo.loadFeed(target.headId, 1) : undefined
    const feed = base ?? new Feed()
    const count = 1 + random(400)
    for (let i = 0; i < count; i++) {
      body[0] = 0x61 + (i % 26)
      feed.append(body, author.sk)
    }
    await repo.merge(feed, undefined, base ? { chainId: target!.chainId } : {})
    await registry.put('round', new TextEncoder().encode(String(round)))
  }
  if (!announced) {
    announced = true
    process.stdout.write('ready\n')
  }
}
