/**
 * What it must show, item 2: three peers as separate Node processes over a local
 * testnet (127.0.0.1). Tasks added offline on each peer converge after they join; a
 * peer that restarts on the same data dir keeps its identity and tasks and catches up.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import createTestnet, { type Testnet } from 'hyperdht/testnet.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { converge, PeerProcess, root } from '../scripts/peer-process.ts'

const run = promisify(execFile)

/** `todo <args>` as a one-shot process on `dataDir` (offline: it joins nothing). */
async function todo(dataDir: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', '--conditions=@picostack/source', 'src/cli.ts', ...args, '--data', dataDir],
    { cwd: root },
  )
  return stdout.trim()
}

describe('three peer processes on a local testnet', () => {
  let testnet: Testnet
  let dir: string
  let bootstrap: string
  const running: PeerProcess[] = []

  beforeAll(async () => {
    testnet = await createTestnet(3)
    // The guard: no bootstrap node outside 127.0.0.1.
    expect(testnet.bootstrap.every((node) => node.host === '127.0.0.1')).toBe(true)
    bootstrap = `127.0.0.1:${testnet.bootstrap[0]!.port}`
    dir = await mkdtemp(join(tmpdir(), 'todo-processes-'))
  })

  afterAll(async () => {
    for (const peer of running) if (peer.child.exitCode === null) peer.child.kill()
    await testnet.destroy()
    await rm(dir, { recursive: true, force: true })
  })

  const start = (name: string) => {
    const peer = new PeerProcess(name, { dataDir: join(dir, name), topic: 'chores', bootstrap })
    running.push(peer)
    return peer
  }

  it('converges offline work, and a restarted peer keeps its identity and catches up', async () => {
    const names = ['alice', 'bob', 'carol']
    // Offline: each adds two tasks in its own data dir, one of them done.
    const offline = await Promise.all(
      names.map(async (name) => {
        const data = join(dir, name)
        const first = await todo(data, 'add', `${name} first`, '--json')
        await todo(data, 'add', `${name} second`)
        await todo(data, 'done', JSON.parse(first).id)
        return { name, pk: await todo(data, 'whoami'), done: JSON.parse(first).id as string }
      }),
    )

    const [alice, bob, carol] = names.map(start) as [PeerProcess, PeerProcess, PeerProcess]
    const keys = await Promise.all([alice.ready, bob.ready, carol.ready])
    expect(keys).toEqual(offline.map((o) => o.pk)) // identity from disk

    const tasks = await converge([alice, bob, carol], (ts) => ts.length === 6, 45_000)
    expect(tasks.map((t) => t.title).sort()).toEqual(
      names.flatMap((n) => [`${n} first`, `${n} second`]).sort(),
    )
    for (const { pk, done } of offline) {
      const mine = tasks.filter((t) => t.owner === pk)
      expect(mine).toHaveLength(2)
      expect(mine.find((t) => t.id === done)?.status).toBe('done')
    }

    // carol goes away; alice and bob carry on without her.
    expect(await carol.quit()).toBe(0)
    const missed = (await alice.run('add', 'while carol was away')).id!
    const bobsSecond = tasks.find((t) => t.title === 'bob second')!.id
    await bob.run('start', bobsSecond)
    await converge([alice, bob], (ts) => ts.length === 7)

    // carol restarts on the same data dir: same key, her tasks at once, then what she missed.
    const carolAgain = start('carol')
    expect(await carolAgain.ready).toBe(offline[2]!.pk)
    const fromDisk = await carolAgain.list()
    expect(fromDisk.length).toBeGreaterThanOrEqual(6)
    expect(fromDisk.filter((t) => t.owner === offline[2]!.pk)).toHaveLength(2)
    const final = await converge([alice, bob, carolAgain], (ts) => ts.length === 7, 45_000)
    expect(final.find((t) => t.id === missed)?.title).toBe('while carol was away')
    expect(final.find((t) => t.id === bobsSecond)?.status).toBe('doing')

    expect(await Promise.all([alice.quit(), bob.quit(), carolAgain.quit()])).toEqual([0, 0, 0])
  }, 110_000)

  it('serve runs commands typed on stdin in order, and stops when stdin ends', async () => {
    const child = execFile(
      process.execPath,
      [
        ...['--import', 'tsx', '--conditions=@picostack/source', 'src/cli.ts', 'serve'],
        ...['--topic', 'stdin', '--bootstrap', bootstrap, '--data', join(dir, 'dora')],
      ],
      { cwd: root },
    )
    let stdout = ''
    child.stdout!.on('data', (chunk) => {
      stdout += chunk
    })
    child.stdin!.end('add one --ttl 1h\nadd two\nlist\ndone nope\n')
    const code = await new Promise((resolve) => child.once('exit', resolve))
    expect(code).toBe(0)
    const lines = stdout.trim().split('\n')
    expect(lines[0]).toMatch(/^serving "stdin" as [0-9a-f]{16}\.\.\.$/)
    const shown = lines.slice(2).map((l) => l.replace(/[0-9a-f]{8}/g, 'ID'))
    expect(shown.slice(0, 2)).toEqual(['added ID', 'added ID'])
    // Tasks made in the same millisecond list by id: either order.
    expect(shown.slice(2, 4).sort()).toEqual([
      'ID  todo   one  (60 min left)',
      'ID  todo   two  (1440 min left)',
    ])
    expect(shown.slice(4)).toEqual(['error TODO_UNKNOWN_TASK: no task nope'])
  }, 30_000)
})
