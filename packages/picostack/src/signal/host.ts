import type { Plug } from '@picostack/net'
import type { Readable } from '../readable.ts'
import type { Peer } from '../sync/engine.ts'

/** What signalling needs from the kernel that runs it. */
export interface SignalHost {
  /** The kernel's node id (16 B). */
  readonly nodeId: Uint8Array
  /** The connected peers. */
  readonly connections: Readable<Peer[]>
  /** A new sync wire (for a direct link). */
  spawnWire(): Plug
}
