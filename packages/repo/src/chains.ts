/**
 * Chain summaries: what the repo tells of one chain, and pages of them in chain id order
 * ({@link listChains}), read from the chain records (`0x03 | chain id`).
 */
import { SIG_BYTES } from '@picostack/feed'
import type { LevelDatabase } from './database.ts'
import { RepoError } from './errors.ts'
import { chainKey, chainRange, MAX_DEPTH, plain } from './layout.ts'
import { nibblePrefix } from './range-index.ts'
import { type ChainRecord, decodeChain } from './records.ts'

const VIEW = { keyEncoding: 'view', valueEncoding: 'view' } as const
/** Largest page of {@link listChains}. */
export const MAX_PAGE = 65_536

/** What the repo knows of one chain (chain id = genesis sig; owner = genesis author). */
export interface ChainSummary {
  /** The chain's id: its genesis block's signature (64 B). */
  chainId: Uint8Array // 64 B
  /** Owner: the genesis author (for a partial chain: the author of its first received block). */
  author: Uint8Array // 32 B
  /** Newest block. */
  headId: Uint8Array // 64 B
  /** Blocks from genesis to head (genesis = 1), even if a prefix was evicted. */
  height: number
  /** Oldest block still stored (== chainId unless a prefix was evicted or the chain is partial). */
  firstId: Uint8Array // 64 B
  /** Blocks still stored. */
  length: number
  /**
   * False for a partial chain received without a height: then `height` counts from the
   * first block received (which is 1).
   */
  heightKnown: boolean
  /**
   * True when the chain was started by its genesis (whose signature is the chain id, so
   * the id is proven). False for a partial chain started under a claimed id: its id and
   * `height` are what a sender said, not facts, until the genesis arrives and replaces it.
   */
  proven: boolean
}

/** Options of `repo.listChains`: one page of chains in ascending chain id order. */
export interface ListChainsOptions {
  /** Nibble values (each 0..15, at most 128): only chains whose id starts with them. */
  prefix?: Uint8Array
  /** A chain id (64 B): only chains after it. */
  after?: Uint8Array
  /** Most chains in the page: 1 to 65,536. */
  limit: number
  /** True: only proven chains (the reconciliation index's items). Default: every chain. */
  proven?: boolean
}

/** The summary of a chain record. */
export function summaryOf(chain: ChainRecord): ChainSummary {
  return {
    chainId: chain.chainId,
    author: chain.author,
    headId: chain.headId,
    height: chain.headHeight,
    firstId: chain.firstId,
    length: chain.headHeight - chain.firstHeight + 1,
    heightKnown: chain.heightKnown,
    proven: !chain.claimed,
  }
}

function invalid(message: string): RepoError {
  return new RepoError('REPO_INVALID_INPUT', message)
}

/** -1, 0 or 1 as `a` sorts before, with or after `b` (bytes). */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1
}

/**
 * `options` checked.
 * @throws REPO_INVALID_INPUT for a bad prefix, `after`, `limit` or `proven`
 */
function checkOptions(options: ListChainsOptions): Required<Omit<ListChainsOptions, 'after'>> & {
  after?: Uint8Array
} {
  if (typeof options !== 'object' || options === null) throw invalid('listChains takes options')
  const { prefix = new Uint8Array(0), after, limit, proven = false } = options
  nibblePrefix(prefix, MAX_DEPTH)
  if (after !== undefined && !(after instanceof Uint8Array && after.length === SIG_BYTES)) {
    throw invalid(`after must be a ${SIG_BYTES}-byte chain id`)
  }
  if (!(Number.isInteger(limit) && limit >= 1 && limit <= MAX_PAGE)) {
    throw invalid(`limit must be an integer from 1 to ${MAX_PAGE}`)
  }
  if (typeof proven !== 'boolean') throw invalid('proven must be a boolean')
  return { prefix, after, limit, proven }
}

/**
 * One page of chain summaries in ascending chain id order (see {@link ListChainsOptions}).
 * Reads at most `limit` chain records, plus, with `proven`, the claimed chains it passes.
 * @throws REPO_INVALID_INPUT for bad options
 */
export async function listChains(
  db: LevelDatabase,
  options: ListChainsOptions,
): Promise<ChainSummary[]> {
  return (await listChainRecords(db, options)).map(summaryOf)
}

/**
 * The chain records of one page (see {@link listChains}), as read.
 * @throws REPO_INVALID_INPUT for bad options
 */
export async function listChainRecords(
  db: LevelDatabase,
  options: ListChainsOptions,
): Promise<ChainRecord[]> {
  const { prefix, after, limit, proven } = checkOptions(options)
  const [gte, lt] = chainRange(prefix)
  const from = after && chainKey(after)
  const range = from && compareBytes(from, gte) >= 0 ? { gt: from, lt } : { gte, lt }
  const out: ChainRecord[] = []
  for await (const [key, value] of db.iterator({
    ...range,
    limit: proven ? -1 : limit,
    ...VIEW,
  })) {
    const chain = decodeChain(plain(key).slice(1), plain(value))
    if (proven && chain.claimed) continue
    out.push(chain)
    if (out.length === limit) break
  }
  return out
}
