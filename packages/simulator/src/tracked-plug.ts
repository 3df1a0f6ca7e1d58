import type { Plug } from '@picostack/kernel'

/** What a {@link trackedPlug} reports. */
export interface PlugHooks {
  /** Every message posted into the kernel, before it is delivered. */
  inbound(msg: Uint8Array, replyExpected: boolean): void
  /** The delivery's promise: it settles once the kernel handled the message (or answered it). */
  track(delivery: Promise<unknown>): void
}

/**
 * Wraps the kernel's end of a wire so the simulator sees every message delivered into the
 * kernel and the promise of its handling. The kernel's handler settles that promise after
 * the message's work (signature checks on the thread pool included), so "every delivery
 * settled" is how the simulator knows the kernels are idle and virtual time may move.
 */
export function trackedPlug(plug: Plug, hooks: PlugHooks): Plug {
  const postMessage = (msg: Uint8Array, replyExpected = false) => {
    hooks.inbound(msg, replyExpected)
    const delivery = plug.postMessage(msg, replyExpected)
    hooks.track(delivery)
    return delivery
  }
  const wrapper = ((target: Plug) => plug(target)) as Plug
  Object.defineProperties(wrapper, {
    id: {
      get: () => plug.id,
      set: (id: string | undefined) => {
        plug.id = id
      },
    },
    postMessage: { value: postMessage },
    onmessage: {
      get: () => plug.onmessage,
      set: (handler: Plug['onmessage']) => {
        plug.onmessage = handler
      },
    },
    open: { value: (target: Plug) => plug.open(target) },
    opened: { get: () => plug.opened },
    closed: { get: () => plug.closed },
    close: { value: (reason?: Error) => plug.close(reason) },
    isActive: { get: () => plug.isActive },
    isClosed: { get: () => plug.isClosed },
  })
  return wrapper
}
