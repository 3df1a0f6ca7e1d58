/**
 * Case 4, mesh (memory-level): 20 peers, a seeded random graph of degree 3-5, each holding
 * the same 200 tasks; one adds a task. How many times each peer received its block (frames
 * carrying the block's body, found by its unique title) and the average over the 19
 * others. Target: <= 2.
 */
import { PROTOCOL_VERSION } from '@picostack/kernel'
import { printTable } from '../../measure.ts'
import type { Fixture } from '../fixture.ts'
import { QUIET_MS, type SyncHarness } from '../harness.ts'
import { randomMesh } from '../mesh.ts'
import { quiet } from '../metered-link.ts'
import { formatBytes, formatMs, type Verdict, verdict } from '../report.ts'
import { title, writeChains } from '../tasks.ts'

const MESH_PEERS = 20
const MESH_SEED = 14
const MESH_TASKS = 200
const TARGET_MESH_AVG = 2

export async function mesh(h: SyncHarness, fx: Fixture): Promise<Verdict[]> {
  const edges = randomMesh(MESH_PEERS, 3, 5, MESH_SEED)
  const peers = Array.from({ length: MESH_PEERS }, () => h.todo())
  await h.boot(...peers)
  const seed = fx.shared.slice(0, MESH_TASKS)
  await Promise.all(peers.map((p) => writeChains(p, seed)))
  const degree = peers.map(() => 0)
  for (const [x, y] of edges) {
    degree[x]!++
    degree[y]!++
  }

  const newTitle = title(fx.n + 1, ` (mesh ${Math.random().toString(16).slice(2)})`)
  const token = Buffer.from(newTitle)
  const received = peers.map(() => 0)
  const links = edges.map(([x, y]) =>
    h.connect(peers[x]!, peers[y]!, (frame) => {
      if (
        Buffer.from(frame.payload.buffer, frame.payload.byteOffset, frame.payload.length).indexOf(
          token,
        ) < 0
      )
        return
      received[frame.from === 0 ? y : x]!++
    }),
  )
  await h.until(() => peers.every((p, i) => p.peers.length === degree[i]), 'mesh sessions')
  await quiet(links, { quietMs: QUIET_MS })
  const before = links.reduce((sum, l) => sum + l.totalBytes(), 0)

  const origin = 0
  const held = Promise.all(peers.map((p, i) => (i === origin ? undefined : p.counted(1))))
  const start = performance.now()
  await peers[origin]!.addTask(newTitle)
  await h.within(held, 'mesh: the new block at every peer')
  const allMs = performance.now() - start
  await quiet(links, { quietMs: QUIET_MS })
  const wire = links.reduce((sum, l) => sum + l.totalBytes(), 0) - before
  h.unlink(...links)
  await h.close(...peers)

  const others = received.filter((_, i) => i !== origin)
  const average = others.reduce((a, b) => a + b, 0) / others.length
  printTable(
    `mesh: ${MESH_PEERS} peers, ${edges.length} links (seeded random graph, degree 3-5, seed ${MESH_SEED}, memory-level), one new block, protocol v${PROTOCOL_VERSION}`,
    peers.map((_, i) => ({
      peer: i === origin ? `${i} (origin)` : String(i),
      links: degree[i]!,
      'times it received the block': received[i]!,
    })),
  )
  console.log(
    `reached all ${MESH_PEERS} in ${formatMs(allMs)}; ${formatBytes(wire)} on all links for it; ` +
      `received per peer (the ${others.length} others): average ${average.toFixed(2)}, max ${Math.max(...others)}`,
  )
  return [
    verdict(
      `mesh of ${MESH_PEERS}: times each peer received the new block (average)`,
      average,
      'at most',
      TARGET_MESH_AVG,
      (x) => x.toFixed(2),
    ),
  ]
}
