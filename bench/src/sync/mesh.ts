/**
 * A seeded random mesh: `n` peers, each with between `minDegree` and `maxDegree`
 * neighbours, connected (a random ring first, then random extra edges up to each peer's
 * drawn degree). The same seed gives the same graph.
 */
import { random } from './tasks.ts'

/** Undirected edges [a, b] with a < b. */
export type Edges = [number, number][]

/**
 * @throws when no graph within the degree bounds was found from this seed (in 100 tries)
 */
export function randomMesh(n: number, minDegree: number, maxDegree: number, seed: number): Edges {
  const next = random(seed)
  for (let attempt = 0; attempt < 100; attempt++) {
    const order = Array.from({ length: n }, (_, i) => i)
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1))
      ;[order[i], order[j]] = [order[j]!, order[i]!]
    }
    const want = order.map(() => minDegree + Math.floor(next() * (maxDegree - minDegree + 1)))
    const degree = new Array<number>(n).fill(0)
    const has = new Set<string>()
    const edges: Edges = []
    const add = (a: number, b: number) => {
      const [lo, hi] = a < b ? [a, b] : [b, a]
      if (lo === hi || has.has(`${lo}-${hi}`)) return false
      has.add(`${lo}-${hi}`)
      edges.push([lo, hi])
      degree[lo]!++
      degree[hi]!++
      return true
    }
    for (let i = 0; i < n; i++) add(order[i]!, order[(i + 1) % n]!)
    for (let tries = 0; tries < n * 50; tries++) {
      const open = degree.map((d, i) => (d < want[i]! ? i : -1)).filter((i) => i >= 0)
      if (open.length < 2) break
      const a = open[Math.floor(next() * open.length)]!
      const b = open[Math.floor(next() * open.length)]!
      add(a, b)
    }
    if (degree.every((d) => d >= minDegree && d <= maxDegree)) {
      return edges.sort((x, y) => x[0] - y[0] || x[1] - y[1])
    }
  }
  throw new Error(`no ${n}-peer mesh of degree ${minDegree}-${maxDegree} from seed ${seed}`)
}
