/**
 * `todo`: a peer-to-peer to-do list on the command line.
 *
 *   todo add buy milk --ttl 2h          (works offline; syncs when you serve)
 *   todo list
 *   todo done 1a2b3c4d
 *   todo serve --topic our-flat         (stay online; type commands while it runs)
 */
import { homedir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { COMMANDS_HELP, type CommandResult, runCommand } from './commands.ts'
import { TodoKernel } from './kernel.ts'
import { serve } from './serve.ts'

const USAGE = `usage: todo <command> [arguments] [--data <dir>]
       todo serve --topic <name> [--bootstrap host:port]... [--host <address>] [--data <dir>]

${COMMANDS_HELP}
  serve                                   stay online on --topic and sync; read commands from stdin

options:
  --data <dir>            where this peer keeps its identity and tasks (default ~/.picostack-todo)
  --topic <name>          the list's shared name; everyone serving it syncs
  --bootstrap host:port   HyperDHT bootstrap node, repeatable (default: the public HyperDHT)
  --host <address>        address the DHT binds to (default 127.0.0.1 for local bootstrap nodes)
  --ttl <duration>        add: time to live after the last update (30s, 15m, 2h, 7d; default 24h)
  --json                  print results as JSON`

/** A request from a parent process (the demo): run `args`, answer with the same `id`. */
interface IpcRequest {
  id: number
  args: string[]
}

/** The answer to an {@link IpcRequest}. */
export type IpcReply =
  | { id: number; ok: true; result: CommandResult }
  | { id: number; ok: false; error: { code?: string; reason?: string; message: string } }

function describe(err: unknown): { code?: string; reason?: string; message: string } {
  const { code, reason, message } = err as { code?: string; reason?: string; message?: string }
  return { code, reason, message: message ?? String(err) }
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      data: { type: 'string', default: join(homedir(), '.picostack-todo') },
      topic: { type: 'string' },
      bootstrap: { type: 'string', multiple: true },
      host: { type: 'string' },
      ttl: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help || positionals.length === 0) {
    console.log(USAGE)
    return values.help ? 0 : 1
  }
  const kernel = new TodoKernel(values.data)
  await kernel.boot()
  try {
    if (positionals[0] === 'serve') return await serveForever(kernel, values)
    const args = values.ttl === undefined ? positionals : [...positionals, '--ttl', values.ttl]
    const result = await runCommand(kernel, args)
    console.log(values.json ? JSON.stringify(result) : result.text)
    return 0
  } finally {
    await kernel.close()
  }
}

/** Serves until SIGINT/SIGTERM, stdin ends (when it is not a terminal) or the parent says `quit`. */
async function serveForever(
  kernel: TodoKernel,
  options: { topic?: string; bootstrap?: string[]; host?: string },
): Promise<number> {
  if (!options.topic) {
    console.error('serve needs --topic <name>')
    return 1
  }
  const modem = await serve(kernel, {
    topic: options.topic,
    bootstrap: options.bootstrap,
    host: options.host,
  })
  console.log(`serving "${options.topic}" as ${kernel.pk.slice(0, 16)}...`)
  kernel.connections.subscribe((peers) => console.log(`peers: ${peers.length}`))

  let stop: () => void = () => {}
  const stopped = new Promise<void>((resolve) => {
    stop = resolve
  })
  process.once('SIGINT', () => stop())
  process.once('SIGTERM', () => stop())

  const send = process.send?.bind(process)
  if (send) {
    process.on('message', async (request: IpcRequest | 'quit') => {
      if (request === 'quit') return stop()
      try {
        send({ id: request.id, ok: true, result: await runCommand(kernel, request.args) })
      } catch (err) {
        send({ id: request.id, ok: false, error: describe(err) })
      }
    })
    send({ ready: true, pk: kernel.pk })
  } else {
    const lines = createInterface({ input: process.stdin })
    /** Commands run one after another, in the order typed. */
    let queue = Promise.resolve()
    lines.on('line', (line) => {
      const args = line.trim().split(/\s+/).filter(Boolean)
      if (args.length === 0) return
      queue = queue.then(async () => {
        try {
          console.log((await runCommand(kernel, args)).text)
        } catch (err) {
          const { code, reason, message } = describe(err)
          console.log(`error ${code ?? ''}: ${reason ?? message}`)
        }
      })
    })
    if (!process.stdin.isTTY) lines.once('close', () => queue.then(stop))
  }

  await stopped
  await modem.destroy()
  process.stdin.destroy()
  if (send) process.disconnect()
  return 0
}

main().then(
  (code) => {
    process.exitCode = code
  },
  (err) => {
    const { code, reason, message } = describe(err)
    console.error(`error ${code ?? ''}: ${reason ?? message}`)
    if (code === 'REPO_LAYOUT' || code === 'STORE_LAYOUT') {
      console.error(
        'this --data folder was written by another picostack version (nothing is migrated): move it away, or pass another --data',
      )
    }
    process.exitCode = 1
  },
)
