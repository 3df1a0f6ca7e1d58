/** Kernels that take direct links over node-datachannel on 127.0.0.1, for signalling tests. */
import type { RtcPeerConnectionConstructor } from '@picostack/net'
import { RTCPeerConnection } from 'node-datachannel/polyfill'
import type { KernelOptions } from '../src/index.ts'
import { CounterKernel } from './helpers.ts'

/** node-datachannel's `RTCPeerConnection`, as the kernel takes it. */
export const NodeRTCPeerConnection = RTCPeerConnection as unknown as RtcPeerConnectionConstructor

/** Signalling options of a Node peer on this loopback-only machine. */
export const LOOPBACK_SIGNAL: KernelOptions['signal'] = {
  RTCPeerConnection: NodeRTCPeerConnection,
  rtcConfiguration: { bindAddress: '127.0.0.1' },
}

/** A booted counter kernel; with `direct` it takes direct links over node-datachannel. */
export async function bootKernel(direct: boolean, options: KernelOptions = {}) {
  const kernel = new CounterKernel(undefined, {
    ...options,
    signal: direct ? { ...LOOPBACK_SIGNAL, ...options.signal } : options.signal,
  })
  await kernel.boot()
  return kernel
}

/** Polls `check` every 20 ms until it holds; fails after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const start = Date.now()
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`condition not met in ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
