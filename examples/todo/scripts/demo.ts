/**
 * `pnpm demo`: three peers, each a separate Node process with its own classic-level
 * directory, share a to-do list over hyperswarm on a local HyperDHT testnet (127.0.0.1
 * only: no internet needed). They add, assign and complete tasks, converge, and watch a
 * short-lived task expire everywhere.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import createTestnet from 'hyperdht/testnet.js'
import { converge, PeerProcess } from './peer-process.ts'

const SHORT_TTL_MS = 4_000
const TIMEOUT_MS = 60_000
/** `pnpm demo --verbose` shows what each peer prints. */
const VERBOSE = process.argv.includes('--verbose')

/** Polls `check` every 50 ms until it holds; fails after TIMEOUT_MS. */
async function until(check: () => Promise<boolean>): Promise<void> {
  const start = Date.now()
  while (!(await check())) {
    if (Date.now() - start > TIMEOUT_MS) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

const line = (text: string) => console.log(text)
const short = (id: string) => id.slice(0, 8)

async function main(): Promise<void> {
  const started = Date.now()
  const testnet = await createTestnet(3)
  const bootstrapNode = testnet.bootstrap[0]!
  if (testnet.bootstrap.some((node) => node.host !== '127.0.0.1')) {
    throw new Error('the demo only runs on a 127.0.0.1 testnet')
  }
  const bootstrap = `${bootstrapNode.host}:${bootstrapNode.port}`
  const dir = await mkdtemp(join(tmpdir(), 'picostack-todo-demo-'))
  line(`local HyperDHT testnet on ${bootstrap}; data in ${dir}`)

  const names = ['alice', 'bob', 'carol']
  const peers = names.map(
    (name) =>
      new PeerProcess(name, {
        dataDir: join(dir, name),
        topic: 'picostack-todo-demo',
        bootstrap,
        verbose: VERBOSE,
      }),
  )
  try {
    const [alice, bob, carol] = peers as [PeerProcess, PeerProcess, PeerProcess]
    const keys = await Promise.all(peers.map((peer) => peer.ready))
    for (const [i, name] of names.entries()) {
      line(`${name.padEnd(5)} online as ${keys[i]!.slice(0, 16)}...`)
    }

    const meshStart = Date.now()
    await until(async () => {
      const counts = await Promise.all(peers.map((peer) => peer.run('peers')))
      return counts.every((count) => count.peers === 2)
    })
    line(`every peer is connected to the other two (${Date.now() - meshStart} ms)`)

    const milk = (await alice.run('add', 'buy', 'milk')).id!
    const bins = (await alice.run('add', 'take', 'out', 'the', 'bins')).id!
    const plants = (await bob.run('add', 'water', 'the', 'plants')).id!
    const rent = (await carol.run('add', 'pay', 'rent')).id!
    line(`tasks added: alice 2, bob 1, carol 1`)
    await alice.run('assign', bins, keys[1]!)
    line(`alice assigned ${short(bins)} "take out the bins" to bob`)
    await alice.run('done', milk)
    await carol.run('done', rent)

    const syncStart = Date.now()
    await converge(peers, (tasks) => tasks.some((t) => t.id === bins && t.assignee === keys[1]))
    await bob.run('start', bins) // bob may: he is the assignee
    await bob.run('done', plants)
    const refused = await carol.run('done', bins).then(
      () => 'accepted',
      (err: { reason?: string }) => err.reason ?? 'refused',
    )
    line(`carol tried to complete ${short(bins)}: ${refused}`)
    const tasks = await converge(peers, (ts) =>
      ts.some((t) => t.id === bins && t.status === 'doing'),
    )
    const syncMs = Date.now() - syncStart
    line(`all three peers list the same ${tasks.length} tasks (synced in ${syncMs} ms):`)
    for (const task of tasks) line(`  ${short(task.id)}  ${task.status.padEnd(5)}  ${task.title}`)

    const flash = (await carol.run('add', 'flash', 'sale', '--ttl', `${SHORT_TTL_MS}ms`)).id!
    await converge(peers, (ts) => ts.some((t) => t.id === flash))
    line(
      `carol added ${short(flash)} "flash sale" living ${SHORT_TTL_MS / 1000} s; every peer has it`,
    )
    const expiryStart = Date.now()
    const after = await converge(peers, (ts) => !ts.some((t) => t.id === flash))
    line(
      `${short(flash)} expired and vanished from all three peers after ${Date.now() - expiryStart} ms; ${after.length} tasks remain`,
    )

    const codes = await Promise.all(peers.map((peer) => peer.quit()))
    if (codes.some((code) => code !== 0)) throw new Error(`a peer exited with ${codes}`)
    line(
      `summary: 3 peers (separate processes, classic-level each), ${tasks.length + 1} tasks made, 1 expired, ` +
        `converged in ${syncMs} ms, whole demo ${((Date.now() - started) / 1000).toFixed(1)} s`,
    )
  } finally {
    for (const peer of peers) if (peer.child.exitCode === null) peer.child.kill()
    await testnet.destroy()
    await rm(dir, { recursive: true, force: true })
  }
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
