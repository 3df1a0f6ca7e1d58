/**
 * Clients of a relay for its tests: kernels over a WebSocket (as a browser connects) and
 * bare `ws` sockets, all on 127.0.0.1 (127.0.0.2 and up when a test needs more source
 * addresses: the whole 127/8 block is loopback).
 */

import { SimpleKernel } from '@picostack/kernel'
import { wsWire } from '@picostack/net'
import { type ClientOptions, WebSocket } from 'ws'
import { until } from '../../modem/test/testnet.ts'

/** A kernel with one slice: the texts of every `note` block, sorted. */
export class NoteKernel extends SimpleKernel {
  readonly notes = this.store.register<string[]>({
    name: 'notes',
    initialValue: [],
    filter: ({ type }) => type !== 'note',
    reducer: ({ state, payload }) => [...state, (payload as { text: string }).text].sort(),
  })

  note(text: string) {
    return this.createBlock('note', { text })
  }
}

export async function bootedNoteKernel(): Promise<NoteKernel> {
  const kernel = new NoteKernel()
  await kernel.boot()
  return kernel
}

/** Opens a WebSocket; rejects with the HTTP status when the relay refuses the upgrade. */
export function open(url: string, options: ClientOptions = {}): Promise<WebSocket> {
  const socket = new WebSocket(url, options)
  return new Promise<WebSocket>((resolve, reject) => {
    socket.once('open', () => resolve(socket))
    socket.once('unexpected-response', (_req, res) => {
      reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode }))
      socket.terminate()
    })
    socket.once('error', reject)
  })
}

/** The close code the relay sent (1006 when the connection dropped without one). */
export function closeCode(socket: WebSocket): Promise<number> {
  return new Promise((resolve) => socket.once('close', (code) => resolve(code)))
}

/** Close code of a connection that ended without a close frame (the relay destroyed it). */
export const DESTROYED = 1006

/** A kernel connected over a WebSocket, as a browser would be, once its session is up. */
export async function wsClient(
  url: string,
  options: ClientOptions = {},
): Promise<{ kernel: NoteKernel; socket: WebSocket }> {
  const kernel = await bootedNoteKernel()
  const socket = new WebSocket(url, options)
  wsWire(kernel.spawnWire(), socket)
  await until(() => kernel.peers.length === 1)
  return { kernel, socket }
}

/** The n-th extra loopback source address: 127.0.0.2, 127.0.0.3... */
export const loopback = (n: number) => `127.0.0.${2 + n}`

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
