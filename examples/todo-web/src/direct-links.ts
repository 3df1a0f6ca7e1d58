/**
 * The page's direct links: every peer the relay (or another peer) introduced, shown as
 * `direct` (a WebRTC data channel of its own), `connecting`, or `relayed` (reached only
 * through the relay's store).
 */
import type { DirectLink, KernelOptions, SimpleKernel } from '@picostack/kernel'

const label: Record<DirectLink['state'], string> = {
  direct: 'direct',
  connecting: 'connecting…',
  relayed: 'via relay',
}

/**
 * The kernel's signalling options in this browser: its own `RTCPeerConnection` (no STUN:
 * peers on the same network connect directly; see docs/webrtc.md to add STUN/TURN), or
 * none when the browser has no WebRTC (then every peer stays relayed).
 */
export function browserSignal(): KernelOptions['signal'] {
  const RTCPeerConnection = globalThis.RTCPeerConnection
  return RTCPeerConnection ? { RTCPeerConnection } : undefined
}

/** Keeps `list` showing one item per introduced peer: its short id and how it is reached. */
export function showLinks(kernel: SimpleKernel, list: HTMLUListElement): () => void {
  return kernel.links.subscribe((links) => {
    list.replaceChildren(
      ...links.map((link) => {
        const item = document.createElement('li')
        item.dataset.peerId = link.id
        item.dataset.link = link.state
        const id = document.createElement('code')
        id.textContent = link.id.slice(0, 8)
        const state = document.createElement('span')
        state.className = 'link-state'
        state.textContent = label[link.state]
        item.append(id, ' ', state)
        return item
      }),
    )
    list.hidden = links.length === 0
  })
}
