/** Keeps a kernel wired to a relay over a WebSocket, dialing again after a drop. */
import { type SimpleKernel, wsWire } from '@picostack/kernel'

/** Pause before dialing again after the socket closed, ms. */
export const REDIAL_MS = 1000

/**
 * Dials `url` (the relay's `ws://` address) with a wire from `kernel` and again
 * {@link REDIAL_MS} after each close. Connection state is the kernel's own
 * (`kernel.connections`, `kernel.online`), which the page reads through hooks.
 * @returns stops dialing and closes the socket
 */
export function dialRelay(kernel: SimpleKernel, url: string): () => void {
  let stopped = false
  let socket: WebSocket | undefined
  let timer: ReturnType<typeof setTimeout> | undefined
  const dial = () => {
    socket = new WebSocket(url)
    socket.addEventListener('close', () => {
      if (!stopped) timer = setTimeout(dial, REDIAL_MS)
    })
    wsWire(kernel.spawnWire(), socket)
  }
  dial()
  return () => {
    stopped = true
    clearTimeout(timer)
    socket?.close()
  }
}
