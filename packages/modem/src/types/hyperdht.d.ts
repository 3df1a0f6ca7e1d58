/**
 * Ambient types for the parts of `hyperdht` (CommonJS, untyped) that picostack uses.
 * Not complete: only what `@picostack/modem` and its tests touch.
 */
declare module 'hyperdht' {
  import type { EventEmitter } from 'node:events'

  /** A DHT node address. */
  export interface DHTNode {
    host: string
    port: number
  }

  /** An Ed25519 key pair as hyperdht makes it (Buffers). */
  export interface KeyPair {
    publicKey: Uint8Array
    secretKey: Uint8Array
  }

  export interface DHTOptions {
    /** Bootstrap nodes: `'host:port'` strings or `{ host, port }`. Default: public HyperDHT. */
    bootstrap?: Array<string | DHTNode>
    /** Address the UDP sockets bind to (default `0.0.0.0`). */
    host?: string
    /** UDP port (default random). */
    port?: number
    ephemeral?: boolean
    firewalled?: boolean
  }

  export default class DHT extends EventEmitter {
    constructor(options?: DHTOptions)
    /** Parsed bootstrap nodes this node asks first. */
    readonly bootstrapNodes: DHTNode[]
    readonly destroyed: boolean
    fullyBootstrapped(): Promise<void>
    address(): { host: string; port: number }
    destroy(options?: { force?: boolean }): Promise<void>
    static keyPair(seed?: Uint8Array): KeyPair
  }
}

declare module 'hyperdht/testnet.js' {
  import type DHT from 'hyperdht'
  import type { DHTNode } from 'hyperdht'

  /** A throwaway HyperDHT network of `size` nodes (bound to 127.0.0.1 by default). */
  export interface Testnet {
    readonly nodes: DHT[]
    /** The first node's address: pass it as `bootstrap` to every peer. */
    readonly bootstrap: DHTNode[]
    createNode(options?: import('hyperdht').DHTOptions): DHT
    destroy(): Promise<void>
  }

  export default function createTestnet(
    size?: number,
    options?: { host?: string; port?: number; bootstrap?: DHTNode[] },
  ): Promise<Testnet>
}
