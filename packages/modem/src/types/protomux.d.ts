/**
 * Ambient types for the parts of `protomux` (CommonJS, untyped) that picostack uses:
 * channels with raw-bytes messages over one framed stream.
 */
declare module 'protomux' {
  /** A message type of a channel; without an encoding it carries raw bytes. */
  export interface Message {
    send(bytes: Uint8Array): boolean
  }

  export interface Channel {
    readonly id: Uint8Array | null
    readonly protocol: string
    readonly opened: boolean
    readonly closed: boolean
    addMessage(options: { onmessage: (bytes: Uint8Array) => void }): Message
    open(): void
    close(): void
    cork(): void
    uncork(): void
  }

  export interface ChannelOptions {
    protocol: string
    id?: Uint8Array | null
    unique?: boolean
    /** The remote side opened the channel too. */
    onopen?: () => void
    /** Either side closed (or the remote rejected) the channel, or the stream ended. */
    onclose?: (isRemote: boolean) => void
  }

  export default class Protomux implements Iterable<Channel> {
    static from(stream: unknown): Protomux
    /** `null` when a channel with this protocol and id is already open (unique). */
    createChannel(options: ChannelOptions): Channel | null
    /** Calls `notify(id)` when the remote opens a channel of `protocol` we have not opened. */
    pair(key: { protocol: string; id?: Uint8Array | null }, notify: (id: Uint8Array) => void): void
    unpair(key: { protocol: string; id?: Uint8Array | null }): void
    opened(key: { protocol: string; id?: Uint8Array | null }): boolean
    cork(): void
    uncork(): void
    [Symbol.iterator](): Iterator<Channel>
  }
}
