/**
 * The testnet script (`scripts/testnet.ts`): a HyperDHT testnet on 127.0.0.1 as a process
 * of its own; two `todo serve` processes given its printed
 * bootstrap address find each other and sync a task; SIGTERM stops it with exit code 0.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { converge, PeerProcess, root } from '../scripts/peer-process.ts'

/** Starts the testnet script; resolves with its process and the bootstrap line's address. */
function startTestnet(): Promise<{ child: ChildProcess; bootstrap: string; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/testnet.ts'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  return new Promise((resolve, reject) => {
    let output = ''
    child.once('exit', (code) => reject(new Error(`testnet exited early (${code})`)))
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      const bootstrap = /^bootstrap (\S+)$/m.exec(output)?.[1]
      if (bootstrap && output.includes('Ctrl-C')) resolve({ child, bootstrap, output })
    })
  })
}

describe('the testnet script', () => {
  let dir: string
  const peers: PeerProcess[] = []
  let testnet: Awaited<ReturnType<typeof startTestnet>> | undefined

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'todo-testnet-'))
  })
  afterAll(async () => {
    for (const peer of peers) if (peer.child.exitCode === null) peer.child.kill()
    if (testnet?.child.exitCode === null) testnet.child.kill()
    await rm(dir, { recursive: true, force: true })
  })

  it('prints a 127.0.0.1 bootstrap that two serve processes meet on, and stops on SIGTERM', async () => {
    testnet = await startTestnet()
    expect(testnet.bootstrap).toMatch(/^127\.0\.0\.1:\d+$/)
    // The commands it prints are the ones to paste: they name its address.
    expect(testnet.output).toContain(`serve --topic our-flat --bootstrap ${testnet.bootstrap}`)

    for (const name of ['alice', 'bob']) {
      const options = {
        dataDir: join(dir, name),
        topic: 'testnet-script',
        bootstrap: testnet.bootstrap,
      }
      peers.push(new PeerProcess(name, options))
    }
    const [alice, bob] = peers as [PeerProcess, PeerProcess]
    await Promise.all(peers.map((peer) => peer.ready))
    const { id } = await alice.run('add', 'meet', 'on', 'the', 'testnet')
    const tasks = await converge(peers, (ts) => ts.some((task) => task.id === id))
    expect(tasks.map((task) => task.title)).toEqual(['meet on the testnet'])
    expect((await bob.run('peers')).peers).toBe(1)
    expect(await Promise.all(peers.map((peer) => peer.quit()))).toEqual([0, 0])

    const exited = new Promise((resolve) => testnet!.child.once('exit', resolve))
    testnet.child.kill('SIGTERM')
    expect(await exited).toBe(0)
  }, 60_000)
})
