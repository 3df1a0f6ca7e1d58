/**
 * What it must show, item 2: the same seed gives the same run (same trace, same hash),
 * another seed another, with churn, a partition, lossy jittery links and restarts that
 * resync many chains at once (signature checks on the thread pool).
 */
import { expect, it } from 'vitest'
import { churningSwarm } from './helpers.ts'

async function run(seed: string | number) {
  const sim = churningSwarm(seed)
  await sim.run({ until: 45_000 })
  const report = sim.report()
  await sim.close()
  return { hash: report.hash, ndjson: report.ndjson(), signals: sim.signals.length }
}

it('the same seed twice gives the same trace hash; another seed another', async () => {
  const first = await run('alpha')
  const again = await run('alpha')
  const other = await run('beta')
  expect(first.signals).toBeGreaterThan(0)
  expect(again.ndjson).toBe(first.ndjson)
  expect(again.hash).toBe(first.hash)
  expect(first.hash).toMatch(/^[0-9a-f]{64}$/)
  expect(other.hash).not.toBe(first.hash)
  // The trace saw the faults it is meant to reproduce.
  const events = new Set(
    first.ndjson
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l).ev),
  )
  for (const ev of [
    'crash',
    'leave',
    'up',
    'partition',
    'heal',
    'connect',
    'disconnect',
    'frame',
    'state',
  ]) {
    expect(events).toContain(ev)
  }
  expect(first.ndjson).toMatch(/"retransmits":[1-9]/)
}, 60_000)
