/** Keeps a kernel connected to a relay over a WebSocket, redialing when it drops. */
import { type SimpleKernel, wsWire } from '@picostack/kernel'

/** `online`: syncing with the relay; `connecting`: dialing; `offline`: waiting to redial. */
export type ConnectionStatus = 'connecting' | 'online' | 'offline'

/** First pause before redialing, ms (doubles up to {@link MAX_RETRY_MS}). */
export const FIRST_RETRY_MS = 500
/** Longest pause between two dials, ms. */
export const MAX_RETRY_MS = 8000

/**
 * Dials `url` (a relay's `ws://` or `wss://` address) with a wire from `kernel`, and dials
 * again after a pause whenever the socket closes. `onStatus` hears every change.
 * @returns a function that stops (closes the socket, no more dials)
 */
export function connectToRelay(
  kernel: SimpleKernel,
  url: string,
  onStatus: (status: ConnectionStatus) => void,
): () => void {
  let stopped = false
  let dialing = false
  let socket: WebSocket | undefined
  let timer: ReturnType<typeof setTimeout> | undefined
  let retryMs = FIRST_RETRY_MS
  let peers = 0

  const report = () => onStatus(peers > 0 ? 'online' : dialing ? 'connecting' : 'offline')
  const unsubscribe = kernel.connections.subscribe((list) => {
    peers = list.length
    if (peers > 0) retryMs = FIRST_RETRY_MS
    report()
  })

  const dial = () => {
    dialing = true
    report()
    socket = new WebSocket(url)
    socket.addEventListener('close', () => {
      dialing = false
      report()
      if (stopped) return
      timer = setTimeout(dial, retryMs)
      retryMs = Math.min(retryMs * 2, MAX_RETRY_MS)
    })
    wsWire(kernel.spawnWire(), socket)
  }
  dial()

  return () => {
    stopped = true
    clearTimeout(timer)
    unsubscribe()
    socket?.close()
  }
}
