import type { Plug } from '@picostack/net'
import { decodeMessage, encodeMessage, type Message, PROTOCOL_VERSION } from '../src/index.ts'

/** Decode limits that accept whatever a kernel sends (the tests judge it, not the decoder). */
export const ANY_SIZE = {
  maxPatchChains: 1e9,
  maxQueryBytes: 1e9,
  maxRanges: 1e9,
  maxItems: 1e9,
}

/** Node ids that make a hand-speaking peer open reconciliation passes (or never). */
export const INITIATOR_ID = new Uint8Array(16)
export const RESPONDER_ID = new Uint8Array(16).fill(0xff)

/** A test peer that speaks the protocol by hand and records what the kernel says. */
export class HostilePeer {
  readonly received: Message[] = []
  constructor(readonly plug: Plug) {
    plug.open((msg) => {
      this.received.push(decodeMessage(msg, ANY_SIZE))
    })
  }

  /** Sends one-way; resolves once the kernel handled it. */
  send(bytes: Uint8Array): Promise<void> {
    return this.plug.postMessage(bytes)
  }

  /** Sends a request; resolves with the kernel's decoded reply. */
  async request(bytes: Uint8Array): Promise<Message> {
    const [reply] = await this.plug.postMessage(bytes, true)
    return decodeMessage(reply, ANY_SIZE)
  }

  /**
   * Sends a hello; `nodeId` decides the reconciliation role (the smaller id opens passes:
   * {@link INITIATOR_ID}, {@link RESPONDER_ID}).
   */
  hello(
    version = PROTOCOL_VERSION,
    nodeId = crypto.getRandomValues(new Uint8Array(16)),
  ): Promise<void> {
    return this.send(
      encodeMessage({
        type: 'hello',
        version,
        nodeId,
        nonce: crypto.getRandomValues(new Uint8Array(8)),
      }),
    )
  }

  /** Codes of the error messages received so far, in order. */
  get errors(): string[] {
    return this.received.flatMap((m) => (m.type === 'error' ? [m.code] : []))
  }
}
