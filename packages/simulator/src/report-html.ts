import type { Link } from './link.ts'
import type { ReportInput, ReportSummary } from './report.ts'

const WIDTH = 760
const PLOT_HEIGHT = 260
const GRAPH_SIZE = 520
const MARGIN = 40

const escapeHtml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** A vertical marker on the plot: a partition, a heal. */
interface Marker {
  t: number
  label: string
}

function markers(input: ReportInput): Marker[] {
  if (!input.trace.keepLines) return []
  return input.trace
    .lines()
    .filter((line) => line.ev === 'partition' || line.ev === 'heal')
    .map((line) => ({ t: line.t, label: line.ev }))
}

/** The convergence plot: share of live peers agreeing, and live peers, over virtual time. */
function plot(summary: ReportSummary, marks: Marker[]): string {
  const { points, convergedAtMs } = summary.convergence
  const w = WIDTH - 2 * MARGIN
  const h = PLOT_HEIGHT - 2 * MARGIN
  const tMax = Math.max(1, summary.virtualSeconds * 1000)
  const peers = Math.max(1, summary.peers)
  const x = (t: number) => MARGIN + (t / tMax) * w
  const y = (share: number) => MARGIN + (1 - share) * h
  const path = (share: (p: (typeof points)[number]) => number) =>
    points.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(share(p)).toFixed(1)}`).join('')
  const ticks: string[] = []
  const stepS = Math.max(1, Math.ceil(tMax / 1000 / 10 / 10) * 10)
  for (let sec = 0; sec * 1000 <= tMax; sec += stepS) {
    ticks.push(
      `<line x1="${x(sec * 1000)}" y1="${MARGIN + h}" x2="${x(sec * 1000)}" y2="${MARGIN + h + 4}" stroke="#555"/>` +
        `<text x="${x(sec * 1000)}" y="${MARGIN + h + 16}" font-size="10" text-anchor="middle">${sec}</text>`,
    )
  }
  for (const share of [0, 0.5, 1]) {
    ticks.push(
      `<text x="${MARGIN - 6}" y="${y(share) + 3}" font-size="10" text-anchor="end">${share * 100}%</text>` +
        `<line x1="${MARGIN}" y1="${y(share)}" x2="${MARGIN + w}" y2="${y(share)}" stroke="#eee"/>`,
    )
  }
  const lines = marks.map(
    (m) =>
      `<line x1="${x(m.t)}" y1="${MARGIN}" x2="${x(m.t)}" y2="${MARGIN + h}" stroke="#c33" stroke-dasharray="4 3"/>` +
      `<text x="${x(m.t) + 3}" y="${MARGIN + 10}" font-size="10" fill="#c33">${m.label}</text>`,
  )
  if (convergedAtMs !== undefined) {
    lines.push(
      `<line x1="${x(convergedAtMs)}" y1="${MARGIN}" x2="${x(convergedAtMs)}" y2="${MARGIN + h}" stroke="#2a7" stroke-dasharray="2 2"/>` +
        `<text x="${x(convergedAtMs) + 3}" y="${MARGIN + 22}" font-size="10" fill="#2a7">converged</text>`,
    )
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${PLOT_HEIGHT}" font-family="sans-serif">
<text x="${MARGIN}" y="18" font-size="13" font-weight="bold">Convergence over virtual time (s)</text>
${ticks.join('\n')}
<line x1="${MARGIN}" y1="${MARGIN + h}" x2="${MARGIN + w}" y2="${MARGIN + h}" stroke="#555"/>
<line x1="${MARGIN}" y1="${MARGIN}" x2="${MARGIN}" y2="${MARGIN + h}" stroke="#555"/>
${lines.join('\n')}
<path d="${path((p) => p.live / peers)}" fill="none" stroke="#999" stroke-width="1.5"/>
<path d="${path((p) => (p.live ? p.largestGroup / p.live : 0))}" fill="none" stroke="#36c" stroke-width="2"/>
<path d="${path((p) => (p.live ? p.final / p.live : 0))}" fill="none" stroke="#f90" stroke-width="2" stroke-dasharray="5 2"/>
<g font-size="10"><rect x="${WIDTH - 250}" y="6" width="10" height="3" fill="#36c"/><text x="${WIDTH - 236}" y="11">largest agreeing group (share of live)</text>
<rect x="${WIDTH - 250}" y="18" width="10" height="3" fill="#f90"/><text x="${WIDTH - 236}" y="23">holding the final state (share of live)</text>
<rect x="${WIDTH - 250}" y="30" width="10" height="3" fill="#999"/><text x="${WIDTH - 236}" y="35">live peers (share of launched)</text></g>
</svg>`
}

/**
 * Positions for a force-directed drawing (Fruchterman-Reingold, a fixed number of rounds
 * from a circle): deterministic, so the same run draws the same picture.
 */
function layout(names: readonly string[], edges: readonly [number, number][]): [number, number][] {
  const count = names.length
  const pos: [number, number][] = names.map((_, i) => {
    const angle = (2 * Math.PI * i) / Math.max(1, count)
    return [Math.cos(angle) * 0.4, Math.sin(angle) * 0.4]
  })
  const k = 0.6 * Math.sqrt(1 / Math.max(1, count))
  for (let round = 0; round < 150; round++) {
    const temperature = 0.05 * (1 - round / 150)
    const move: [number, number][] = pos.map(() => [0, 0])
    for (let i = 0; i < count; i++) {
      for (let j = i + 1; j < count; j++) {
        const dx = pos[i]![0] - pos[j]![0]
        const dy = pos[i]![1] - pos[j]![1]
        const d2 = Math.max(1e-6, dx * dx + dy * dy)
        const f = (k * k) / d2
        move[i]![0] += dx * f
        move[i]![1] += dy * f
        move[j]![0] -= dx * f
        move[j]![1] -= dy * f
      }
    }
    for (const [a, b] of edges) {
      const dx = pos[a]![0] - pos[b]![0]
      const dy = pos[a]![1] - pos[b]![1]
      const d = Math.max(1e-6, Math.hypot(dx, dy))
      const f = d / k
      move[a]![0] -= dx * f
      move[a]![1] -= dy * f
      move[b]![0] += dx * f
      move[b]![1] += dy * f
    }
    for (let i = 0; i < count; i++) {
      // gravity: keeps loosely linked peers from drifting to the border
      move[i]![0] -= pos[i]![0] * 4 * k
      move[i]![1] -= pos[i]![1] * 4 * k
      const [mx, my] = move[i]!
      const len = Math.max(1e-9, Math.hypot(mx, my))
      const step = Math.min(len, temperature)
      pos[i]![0] = Math.max(-0.5, Math.min(0.5, pos[i]![0] + (mx / len) * step))
      pos[i]![1] = Math.max(-0.5, Math.min(0.5, pos[i]![1] + (my / len) * step))
    }
  }
  return pos
}

/** The network graph at the end: peers (filled when live) and open links (wider = more bytes). */
function graph(input: ReportInput): string {
  const names = input.peers.map((p) => p.name)
  const index = new Map(names.map((name, i) => [name, i]))
  const open = input.links.filter((l: Link) => l.state === 'open')
  const edges = open.map((l): [number, number] => [index.get(l.a.name)!, index.get(l.b.name)!])
  const pos = layout(names, edges)
  const px = (v: number) => (GRAPH_SIZE / 2 + v * (GRAPH_SIZE - 2 * MARGIN)).toFixed(1)
  const maxBytes = Math.max(1, ...open.map((l) => l.bytes))
  const lines = open.map((l, i) => {
    const [a, b] = edges[i]!
    const width = 0.5 + 2.5 * Math.sqrt(l.bytes / maxBytes)
    return `<line x1="${px(pos[a]![0])}" y1="${px(pos[a]![1])}" x2="${px(pos[b]![0])}" y2="${px(pos[b]![1])}" stroke="#8ab" stroke-width="${width.toFixed(2)}"/>`
  })
  const nodes = input.peers.map((p, i) => {
    const [x, y] = pos[i]!
    return `<circle cx="${px(x)}" cy="${px(y)}" r="5" fill="${p.running ? '#36c' : '#fff'}" stroke="${p.boots > 1 ? '#f90' : '#36c'}" stroke-width="1.5"><title>${escapeHtml(p.name)}: ${p.traffic.bytesIn} B in, ${p.traffic.bytesOut} B out</title></circle>`
  })
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${GRAPH_SIZE}" height="${GRAPH_SIZE}" font-family="sans-serif">
<text x="10" y="18" font-size="13" font-weight="bold">Network at the end: ${open.length} links</text>
<text x="10" y="34" font-size="10">filled: live; orange ring: restarted; wider line: more bytes</text>
${lines.join('\n')}
${nodes.join('\n')}
</svg>`
}

/** The whole report page (no script, no external resource). */
export function renderHtml(summary: ReportSummary, text: string, input: ReportInput): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>picostack simulation, seed ${escapeHtml(summary.seed)}</title>
<style>body{font-family:sans-serif;margin:16px;color:#222}pre{font-size:11px;background:#f7f7f7;padding:8px;overflow:auto}.row{display:flex;gap:16px;align-items:flex-start}</style>
</head><body>
<h1 style="font-size:18px">picostack simulation: ${summary.peers} peers, ${summary.virtualSeconds.toFixed(0)} virtual s, seed ${escapeHtml(summary.seed)}</h1>
<div class="row"><div>${plot(summary, markers(input))}<pre>${escapeHtml(text.split('\n').slice(0, 10).join('\n'))}</pre></div>
<div>${graph(input)}</div></div>
<h2 style="font-size:15px">Per peer</h2>
<pre>${escapeHtml(text.split('\n').slice(11).join('\n'))}</pre>
</body></html>
`
}
