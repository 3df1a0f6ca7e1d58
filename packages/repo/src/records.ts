/**
 * The repo's record values (layout 2): placements, chain records, author tags and the
 * counter, with the varints they use. Keys are in `layout.ts`; the table is in README.md
 * ("Key layout").
 */
import { bytesEqual, SIG_BYTES, varintLength } from '@picostack/feed'
import { RepoError } from './errors.ts'

/** Bytes of an Ed25519 public key. */
export const AUTHOR_BYTES = 32

/** Where a stored block sits: its chain, its height in it, and when it was written. */
export interface Placement {
  /** The chain's number ({@link ChainRecord.chainNo}). */
  chainNo: number
  height: number
  /** Repo-wide write sequence number of the block (orders "most recently written"). */
  seq: number
}

/** What the repo stores per chain. */
export interface ChainRecord {
  chainId: Uint8Array // 64 B
  /** Owner: the genesis author (or the first block's author for a partial chain). */
  author: Uint8Array // 32 B
  headId: Uint8Array // 64 B
  headHeight: number
  firstId: Uint8Array // 64 B
  firstHeight: number
  /**
   * Chain number: the write sequence number when the chain was started. Never reused, it
   * orders an owner's chains and stands for the chain id in block keys and placements.
   */
  chainNo: number
  /** False for a partial chain received without a height: heights count from its first block. */
  heightKnown: boolean
  /**
   * True for a partial chain: started by a block whose parent was not held, under a chain
   * id (and height) the sender claimed. Nothing proves such a chain until its genesis
   * arrives, which then replaces it (see the package README, "Partial chains").
   */
  claimed: boolean
}

/**
 * True when `chain` holds its genesis: started by it (so not claimed) and its first block
 * not evicted. That block's placement is not stored: {@link genesisPlacement} derives it.
 */
export function genesisStored(chain: ChainRecord): boolean {
  return !chain.claimed && chain.firstHeight === 1
}

/** The placement of a stored genesis: height 1, written when its chain was numbered. */
export function genesisPlacement(chain: ChainRecord): Placement {
  return { chainNo: chain.chainNo, height: 1, seq: chain.chainNo }
}

/** An author's newest block in one chain (its id is the first 64 B of the block there). */
export interface AuthoredEntry {
  /** Write sequence number of the block. */
  seq: number
  /** Its height in the chain. */
  height: number
}

function corrupt(what: string): never {
  throw new RepoError('REPO_CORRUPT', `malformed ${what} record`)
}

/** Writes the varint of `n` at `at`; returns where it ends. */
export function writeUvarint(out: Uint8Array, at: number, n: number): number {
  while (n >= 0x80) {
    out[at++] = (n % 0x80) | 0x80
    n = Math.floor(n / 0x80)
  }
  out[at++] = n
  return at
}

/**
 * The varint at `at` and where it ends. Strict: minimal encodings of at most 2^53 - 1 only.
 * @throws REPO_CORRUPT (naming `what`) on a truncated, over-long or non-minimal varint
 */
export function readUvarint(bytes: Uint8Array, at: number, what: string): [number, number] {
  let n = 0
  let scale = 1
  for (let i = 0; i < 8; i++) {
    const byte = bytes[at + i]
    if (byte === undefined) corrupt(what)
    n += (byte & 0x7f) * scale
    if (!(byte & 0x80)) {
      if ((byte === 0 && i > 0) || n > Number.MAX_SAFE_INTEGER) corrupt(what)
      return [n, at + i + 1]
    }
    scale *= 0x80
  }
  return corrupt(what)
}

/** Bytes of the placement value of `p`. */
export function placementBytes(p: Placement): number {
  return varintLength(p.chainNo) + varintLength(p.height) + varintLength(p.seq - p.chainNo)
}

/**
 * Placement value: varint(chain number) | varint(height) | varint(seq - chain number)
 * (a chain's blocks are written after it is numbered; 3 B for the genesis of a chain
 * numbered below 2^7, 5 B below 2^21), written into `out` when given (exactly
 * {@link placementBytes} long).
 */
export function encodePlacement(p: Placement, out = new Uint8Array(placementBytes(p))): Uint8Array {
  writeUvarint(out, writeUvarint(out, writeUvarint(out, 0, p.chainNo), p.height), p.seq - p.chainNo)
  return out
}

/** @throws REPO_CORRUPT when `bytes` is not a placement value */
export function decodePlacement(bytes: Uint8Array): Placement {
  const [chainNo, a] = readUvarint(bytes, 0, 'placement')
  const [height, b] = readUvarint(bytes, a, 'placement')
  const [delta, end] = readUvarint(bytes, b, 'placement')
  if (end !== bytes.length) corrupt('placement')
  return { chainNo, height, seq: chainNo + delta }
}

const FLAG_HEIGHT_KNOWN = 1
const FLAG_CLAIMED = 2
/** The head id is the chain id (a one-block chain started by its genesis): not stored. */
const FLAG_HEAD_IS_CHAIN = 4
/** The first id is the chain id (the genesis is stored): not stored. */
const FLAG_FIRST_IS_CHAIN = 8
/** The first id is the head id (a one-block partial chain): not stored. */
const FLAG_FIRST_IS_HEAD = 16
const FLAGS = 31

/**
 * Chain value: flags u8 | owner (32) | varint(chain number) | varint(head height) |
 * varint(head height - first height) | head id (64, unless flag 4) | first id (64, unless
 * flag 8 or 16). Flags: 1 height known, 2 claimed, 4 head id = chain id, 8 first id =
 * chain id, 16 first id = head id. A one-block chain started by its genesis: 36 B + varints.
 */
export function encodeChain(c: ChainRecord): Uint8Array {
  const headIsChain = bytesEqual(c.headId, c.chainId)
  const firstIsChain = bytesEqual(c.firstId, c.chainId)
  const firstIsHead = !firstIsChain && bytesEqual(c.firstId, c.headId)
  const depth = c.headHeight - c.firstHeight
  const ids = (headIsChain ? 0 : SIG_BYTES) + (firstIsChain || firstIsHead ? 0 : SIG_BYTES)
  const out = new Uint8Array(
    1 +
      AUTHOR_BYTES +
      varintLength(c.chainNo) +
      varintLength(c.headHeight) +
      varintLength(depth) +
      ids,
  )
  out[0] =
    (c.heightKnown ? FLAG_HEIGHT_KNOWN : 0) |
    (c.claimed ? FLAG_CLAIMED : 0) |
    (headIsChain ? FLAG_HEAD_IS_CHAIN : 0) |
    (firstIsChain ? FLAG_FIRST_IS_CHAIN : 0) |
    (firstIsHead ? FLAG_FIRST_IS_HEAD : 0)
  out.set(c.author, 1)
  let at = writeUvarint(out, 1 + AUTHOR_BYTES, c.chainNo)
  at = writeUvarint(out, writeUvarint(out, at, c.headHeight), depth)
  if (!headIsChain) {
    out.set(c.headId, at)
    at += SIG_BYTES
  }
  if (!(firstIsChain || firstIsHead)) out.set(c.firstId, at)
  return out
}

/**
 * The chain record of `chainId` (kept by reference; its ids are copies) stored as `bytes`.
 * @throws REPO_CORRUPT when `bytes` is not a chain record
 */
export function decodeChain(chainId: Uint8Array, bytes: Uint8Array): ChainRecord {
  const flags = bytes[0] ?? 0xff
  if (flags & ~FLAGS || (flags & FLAG_FIRST_IS_CHAIN && flags & FLAG_FIRST_IS_HEAD)) {
    corrupt('chain')
  }
  const [chainNo, a] = readUvarint(bytes, 1 + AUTHOR_BYTES, 'chain')
  const [headHeight, b] = readUvarint(bytes, a, 'chain')
  let [depth, at] = readUvarint(bytes, b, 'chain')
  const ids =
    (flags & FLAG_HEAD_IS_CHAIN ? 0 : SIG_BYTES) +
    (flags & (FLAG_FIRST_IS_CHAIN | FLAG_FIRST_IS_HEAD) ? 0 : SIG_BYTES)
  if (at + ids !== bytes.length || depth >= headHeight) corrupt('chain')
  let headId: Uint8Array
  if (flags & FLAG_HEAD_IS_CHAIN) headId = chainId.slice()
  else {
    headId = bytes.slice(at, at + SIG_BYTES)
    at += SIG_BYTES
  }
  const firstId =
    flags & FLAG_FIRST_IS_CHAIN
      ? chainId.slice()
      : flags & FLAG_FIRST_IS_HEAD
        ? headId.slice()
        : bytes.slice(at, at + SIG_BYTES)
  return {
    chainId,
    author: bytes.slice(1, 1 + AUTHOR_BYTES),
    headId,
    headHeight,
    firstId,
    firstHeight: headHeight - depth,
    chainNo,
    heightKnown: (flags & FLAG_HEIGHT_KNOWN) !== 0,
    claimed: (flags & FLAG_CLAIMED) !== 0,
  }
}

/**
 * Author tag value (owned and authored keys, both ending in the chain number): varint(seq
 * - chain number) | varint(height) of the author's newest block in that chain; empty for
 * an owner with no block left in it. 2 B for the genesis of a one-block chain.
 */
export function encodeAuthored(chainNo: number, e: AuthoredEntry | undefined): Uint8Array {
  if (!e) return new Uint8Array(0)
  const delta = e.seq - chainNo
  const out = new Uint8Array(varintLength(delta) + varintLength(e.height))
  writeUvarint(out, writeUvarint(out, 0, delta), e.height)
  return out
}

/**
 * The author tag stored as `bytes` under a key of chain number `chainNo` (`undefined`
 * when empty).
 * @throws REPO_CORRUPT when `bytes` is not an author tag value
 */
export function decodeAuthored(chainNo: number, bytes: Uint8Array): AuthoredEntry | undefined {
  if (bytes.length === 0) return undefined
  const [delta, a] = readUvarint(bytes, 0, 'author tag')
  const [height, end] = readUvarint(bytes, a, 'author tag')
  if (end !== bytes.length || height === 0) corrupt('author tag')
  return { seq: chainNo + delta, height }
}

/** u64 value (the write sequence counter), big-endian. */
export function encodeU64(n: number): Uint8Array {
  const out = new Uint8Array(8)
  const high = Math.floor(n / 0x1_0000_0000)
  const low = n >>> 0
  for (let i = 0; i < 4; i++) {
    out[3 - i] = high >>> (8 * i)
    out[7 - i] = low >>> (8 * i)
  }
  return out
}

/** @throws REPO_CORRUPT when `bytes` is not 8 bytes */
export function decodeU64(bytes: Uint8Array): number {
  if (bytes.length !== 8) corrupt('counter')
  let n = 0
  for (let i = 0; i < 8; i++) n = n * 256 + bytes[i]!
  return n
}
