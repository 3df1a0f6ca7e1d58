/**
 * Ambient types for the parts of `hyperswarm` (CommonJS, untyped) that picostack uses.
 * Not complete: only what `@picostack/modem` and its tests touch.
 */
declare module 'hyperswarm' {
  import type { EventEmitter } from 'node:events'
  import type DHT from 'hyperdht'
  import type { KeyPair } from 'hyperdht'

  /** An end-to-end encrypted connection (a `@hyperswarm/secret-stream` duplex). */
  export interface SwarmConnection extends EventEmitter {
    readonly remotePublicKey: Uint8Array
    readonly publicKey: Uint8Array
    readonly isInitiator: boolean
    readonly destroyed: boolean
    /** Free slot for the protocol layer (protomux keeps its muxer here). */
    userData: unknown
    /**
     * The UDX stream the connection runs on (udx-native `stream.remoteHost`: the peer's IP
     * address as its UDP packets show it; through a blind relay, the relay's). `null` until
     * the stream is connected.
     */
    readonly rawStream: { readonly remoteHost: string | null } | null
    write(chunk: Uint8Array): boolean
    end(): void
    destroy(err?: Error): void
  }

  /** What hyperswarm knows about the peer behind a connection. */
  export interface PeerInfo {
    readonly publicKey: Uint8Array
    /** Topics this peer was found under (client side only). */
    readonly topics: Uint8Array[]
    readonly client: boolean
  }

  /** One topic's announce/lookup session (what `join` returns). */
  export interface PeerDiscovery {
    /** Resolves once the topic is announced (server) and looked up (client). */
    flushed(): Promise<void>
    /** Announces and looks up again now. */
    refresh(options?: { server?: boolean; client?: boolean }): Promise<void>
    destroy(): Promise<void>
  }

  export interface SwarmOptions {
    dht?: DHT
    keyPair?: KeyPair
    seed?: Uint8Array
    maxPeers?: number
    bootstrap?: Array<string | { host: string; port: number }>
  }

  export default class Hyperswarm extends EventEmitter {
    constructor(options?: SwarmOptions)
    readonly dht: DHT
    readonly keyPair: KeyPair
    readonly connections: Set<SwarmConnection>
    readonly destroyed: boolean
    join(topic: Uint8Array, options?: { server?: boolean; client?: boolean }): PeerDiscovery
    leave(topic: Uint8Array): Promise<void>
    flush(): Promise<boolean>
    destroy(options?: { force?: boolean }): Promise<void>
    on(event: 'connection', listener: (conn: SwarmConnection, info: PeerInfo) => void): this
    on(event: 'update', listener: () => void): this
    off(event: 'connection', listener: (conn: SwarmConnection, info: PeerInfo) => void): this
  }
}
