/**
 * The page's direct links: every peer the relay (or another peer) introduced, shown as
 * `direct` (a WebRTC data channel of its own), `connecting`, `relayed` (reached only
 * through the relay's store), or `failed` (a direct link was tried and did not open: its
 * code, e.g. `NET_TIMEOUT`, is shown; the peer is still reached through the relay).
 */
import type { DirectLink, KernelOptions, SimpleKernel } from '@picostack/kernel'

const label: Record<DirectLink['state'], string> = {
  direct: 'direct',
  connecting: 'connecting…',
  relayed: 'via relay',
  failed: 'via relay, direct failed',
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
        if (link.failure) {
          // Why: NET_TIMEOUT (no path within the timeout: other networks, add STUN/TURN),
          // NET_ICE_FAILED, or KERNEL_REMOTE_ERROR (the peer refused or gave up).
          item.dataset.code = link.failure.code
          item.title = link.failure.message
          const code = document.createElement('code')
          code.className = 'link-code'
          code.textContent = link.failure.code
          state.append(': ', code)
        }
        return item
      }),
    )
    list.hidden = links.length === 0
  })
}
