import { type Convergence, convergence, type Sample } from './convergence.ts'
import type { Link } from './link.ts'
import type { SimPeer } from './peer.ts'
import { renderHtml } from './report-html.ts'
import type { Trace } from './trace.ts'

/** What a report reads of a peer. */
export type ReportPeer = Pick<
  SimPeer,
  'name' | 'running' | 'boots' | 'links' | 'traffic' | 'blocks'
>

/** What a report is made from (the simulator passes its state). */
export interface ReportInput {
  /** The trace. */
  trace: Trace
  /** State samples, oldest first. */
  samples: readonly Sample[]
  /** Every peer launched. */
  peers: readonly ReportPeer[]
  /** Links open (or dialing) at the end. */
  links: readonly Link[]
  /** Virtual ms the run covered. */
  elapsedMs: number
  /** The seed. */
  seed: string
}

/** One peer's line in the report. */
export interface PeerSummary {
  /** Its name. */
  name: string
  /** Running at the end. */
  live: boolean
  /** Boots (restarts + 1). */
  boots: number
  /** Links at the end. */
  links: number
  /** Frames it wrote / received. */
  framesOut: number
  /** Frames delivered to it. */
  framesIn: number
  /** Bytes it put on its links (retransmissions included). */
  bytesOut: number
  /** Bytes delivered to it. */
  bytesIn: number
  /** Blocks that arrived in patches. */
  blocksReceived: number
  /** Of those, blocks it already had. */
  duplicateBlocks: number
}

/** Sums over every peer of a run. */
export interface TrafficTotals {
  /** Frames written (sync messages, replies, close frames). */
  frames: number
  /** Bytes put on links, retransmissions included. */
  bytes: number
  /** Blocks that arrived in patches. */
  blocksReceived: number
  /** Of those, blocks the receiver had already received or authored. */
  duplicateBlocks: number
}

/** The figures of a report. */
export interface ReportSummary {
  /** The seed. */
  seed: string
  /** Virtual seconds covered. */
  virtualSeconds: number
  /** Peers launched. */
  peers: number
  /** Peers running at the end. */
  livePeers: number
  /** Agreement over time. */
  convergence: Convergence
  /** Per peer, in launch order. */
  perPeer: PeerSummary[]
  /** Sums over every peer. */
  totals: TrafficTotals
  /** Trace lines recorded. */
  traceLines: number
  /** SHA-256 of the trace, hex. */
  traceHash: string
}

function median(values: number[]): number {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

const n = (value: number) => Math.round(value).toLocaleString('en-US')
const s = (ms: number | undefined) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`)

/**
 * The outcome of a run, for people: {@link text} (time to converge, bytes and messages per
 * peer, duplicate blocks), {@link html} (a page with the convergence plot over virtual
 * time and the network graph, as inline SVG), {@link ndjson} (the trace) and {@link hash}.
 */
export class Report {
  /** The figures. */
  readonly summary: ReportSummary
  readonly #input: ReportInput

  /** @param input - the simulator's state */
  constructor(input: ReportInput) {
    this.#input = input
    const perPeer = input.peers.map(
      (peer): PeerSummary => ({
        name: peer.name,
        live: peer.running,
        boots: peer.boots,
        links: [...peer.links].filter((l) => l.state === 'open').length,
        framesOut: peer.traffic.framesOut,
        framesIn: peer.traffic.framesIn,
        bytesOut: peer.traffic.bytesOut,
        bytesIn: peer.traffic.bytesIn,
        blocksReceived: peer.blocks.received,
        duplicateBlocks: peer.blocks.duplicates,
      }),
    )
    const sum = (pick: (p: PeerSummary) => number) => perPeer.reduce((t, p) => t + pick(p), 0)
    this.summary = {
      seed: input.seed,
      virtualSeconds: input.elapsedMs / 1000,
      peers: perPeer.length,
      livePeers: perPeer.filter((p) => p.live).length,
      convergence: convergence(input.samples),
      perPeer,
      totals: {
        frames: sum((p) => p.framesOut),
        bytes: sum((p) => p.bytesOut),
        blocksReceived: sum((p) => p.blocksReceived),
        duplicateBlocks: sum((p) => p.duplicateBlocks),
      },
      traceLines: input.trace.length,
      traceHash: input.trace.hash,
    }
  }

  /** SHA-256 of the trace, hex: equal for equal runs. */
  get hash(): string {
    return this.summary.traceHash
  }

  /** The trace as ndjson (one JSON object per line). */
  ndjson(): string {
    return this.#input.trace.ndjson()
  }

  /** A plain-text summary: convergence, traffic per peer, duplicate blocks, the trace hash. */
  text(): string {
    const { summary } = this
    const { convergence: c, perPeer, totals } = summary
    const stat = (name: string, pick: (p: PeerSummary) => number) => {
      const values = perPeer.map(pick)
      const mean = values.reduce((a, b) => a + b, 0) / Math.max(1, values.length)
      return `  ${name.padEnd(16)} mean ${n(mean).padStart(12)}  median ${n(median(values)).padStart(12)}  max ${n(Math.max(0, ...values)).padStart(12)}`
    }
    const converged =
      c.convergedAtMs === undefined
        ? 'not converged: live peers end with different states'
        : c.divergedAtMs === undefined
          ? `in agreement at every sample (from ${s(c.convergedAtMs)})`
          : `converged at ${s(c.convergedAtMs)}, ${s(c.convergedAtMs - c.divergedAtMs)} after the last divergence began (${s(c.divergedAtMs)})`
    const lines = [
      `picostack simulation, seed ${summary.seed}: ${summary.peers} peers, ${summary.livePeers} live at the end, ${summary.virtualSeconds.toFixed(1)} virtual s`,
      `convergence: ${converged}`,
      `traffic: ${n(totals.frames)} frames, ${n(totals.bytes)} bytes`,
      'per peer:',
      stat('bytes out', (p) => p.bytesOut),
      stat('bytes in', (p) => p.bytesIn),
      stat('messages out', (p) => p.framesOut),
      stat('messages in', (p) => p.framesIn),
      `duplicate blocks: ${n(totals.duplicateBlocks)} of ${n(totals.blocksReceived)} received (${((100 * totals.duplicateBlocks) / Math.max(1, totals.blocksReceived)).toFixed(1)}%)`,
      `trace: ${n(summary.traceLines)} lines, sha256 ${summary.traceHash}`,
      '',
      `${'peer'.padEnd(12)} live boots links ${'msgs out'.padStart(9)} ${'msgs in'.padStart(9)} ${'bytes out'.padStart(11)} ${'bytes in'.padStart(11)} ${'blocks in'.padStart(9)} ${'dup'.padStart(7)}`,
      ...perPeer.map(
        (p) =>
          `${p.name.padEnd(12)} ${(p.live ? 'yes' : 'no').padEnd(4)} ${String(p.boots).padStart(5)} ${String(p.links).padStart(5)} ${n(p.framesOut).padStart(9)} ${n(p.framesIn).padStart(9)} ${n(p.bytesOut).padStart(11)} ${n(p.bytesIn).padStart(11)} ${n(p.blocksReceived).padStart(9)} ${n(p.duplicateBlocks).padStart(7)}`,
      ),
    ]
    return `${lines.join('\n')}\n`
  }

  /** A self-contained HTML page: the convergence plot and the network graph (inline SVG), and the text summary. */
  html(): string {
    return renderHtml(this.summary, this.text(), this.#input)
  }
}
