/** Kernels that take direct links over node-datachannel on 127.0.0.1, for signalling tests. */
import type { Plug, RtcPeerConnectionConstructor } from '@picostack/net'
import { RTCPeerConnection } from 'node-datachannel/polyfill'
import { decodeMessage, encodeMessage, type KernelOptions, PROTOCOL_VERSION } from '../src/index.ts'
import {
  decodeSignal,
  encodeSignal,
  type RtcEnvelope,
  type SignalMessage,
} from '../src/signal/messages.ts'
import { CounterKernel } from './helpers.ts'

/** node-datachannel's `RTCPeerConnection`, as the kernel takes it. */
export const NodeRTCPeerConnection: RtcPeerConnectionConstructor = RTCPeerConnection

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

const DECODE_ANYTHING = { maxSummaryChains: 1e9, maxPatchChains: 1e9, maxQueryBytes: 1e9 }

/**
 * A peer that speaks the sync protocol by hand over a kernel's wire and records what the
 * kernel says: error codes and decoded signalling messages.
 */
export class SignalPeer {
  readonly errors: string[] = []
  readonly signals: SignalMessage[] = []
  readonly nodeId = crypto.getRandomValues(new Uint8Array(16))

  constructor(readonly plug: Plug) {
    plug.open((msg) => {
      const message = decodeMessage(msg, DECODE_ANYTHING)
      if (message.type === 'error') this.errors.push(message.code)
      if (message.type === 'signal') this.signals.push(decodeSignal(message.payload, 1e9, 1e9))
    })
  }

  /** Sends our hello; resolves once the kernel handled it. */
  hello(): Promise<void> {
    return this.send(
      encodeMessage({
        type: 'hello',
        version: PROTOCOL_VERSION,
        nodeId: this.nodeId,
        nonce: crypto.getRandomValues(new Uint8Array(8)),
      }),
    )
  }

  /** Sends a sync message; resolves once the kernel handled it. */
  send(bytes: Uint8Array): Promise<void> {
    return this.plug.postMessage(bytes)
  }

  /** Sends a signalling payload (raw bytes or a message). */
  signal(payload: Uint8Array | SignalMessage): Promise<void> {
    const bytes = payload instanceof Uint8Array ? payload : encodeSignal(payload)
    return this.send(encodeMessage({ type: 'signal', payload: bytes }))
  }

  /** The `rtc` of every `forward` the kernel sent us, with its target (hex). */
  get forwards(): { to: string; rtc: RtcEnvelope }[] {
    return this.signals.flatMap((s) =>
      s.kind === 'forward' ? [{ to: Buffer.from(s.to).toString('hex'), rtc: s.rtc }] : [],
    )
  }

  /** The `rtc` of every `forwarded` the kernel sent us, with its sender (hex). */
  get forwarded(): { from: string; rtc: RtcEnvelope }[] {
    return this.signals.flatMap((s) =>
      s.kind === 'forwarded' ? [{ from: Buffer.from(s.from).toString('hex'), rtc: s.rtc }] : [],
    )
  }
}

/**
 * A fake `RTCPeerConnection` that negotiates nothing and never connects; counts how many
 * exist and how many are still open, so caps can be checked without sockets.
 */
export class FakePeerConnection {
  static created = 0
  static open = 0
  connectionState = 'new'
  constructor() {
    FakePeerConnection.created++
    FakePeerConnection.open++
  }
  createDataChannel() {
    return {
      binaryType: 'arraybuffer',
      readyState: 'connecting',
      bufferedAmount: 0,
      bufferedAmountLowThreshold: 0,
      send() {},
      close() {},
      addEventListener() {},
      removeEventListener() {},
    }
  }
  async createOffer() {
    return { type: 'offer', sdp: 'v=0 fake offer' }
  }
  async createAnswer() {
    return { type: 'answer', sdp: 'v=0 fake answer' }
  }
  async setLocalDescription() {}
  async setRemoteDescription() {}
  async addIceCandidate() {}
  addEventListener() {}
  removeEventListener() {}
  close() {
    if (this.connectionState === 'closed') return
    this.connectionState = 'closed'
    FakePeerConnection.open--
  }
}
