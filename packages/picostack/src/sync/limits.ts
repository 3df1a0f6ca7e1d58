/** Protocol version spoken by this implementation; peers with another version are dropped. */
export const PROTOCOL_VERSION = 2

/** Bytes in a random node id (chosen per kernel run). */
export const NODE_ID_BYTES = 16

/** Bytes in the random nonce each side picks per connection (breaks duplicate ties). */
export const NONCE_BYTES = 8

/** Smallest `maxPatchBytes`: `PIC0` and one block with the largest body feeds allow (64 KiB). */
export const MIN_PATCH_BYTES = 4 + 64 * 1024 + 200

/** Most bytes a patch message adds around the feeds of its segments: its own array and type. */
export const PATCH_OVERHEAD_BYTES = 16

/** Most bytes a segment adds around its feed (CBOR array, chain id, height, byte-string header). */
export const SEGMENT_OVERHEAD_BYTES = 96

/**
 * Bounds of the sync protocol and of what peers can make a kernel hold (docs/protocol.md,
 * "Limits"; docs/security.md). The first group is per session and both sides should use
 * the same values (a sender paces itself to half of `ratePerSec` / `burst` and keeps
 * `patchWindow` patches in flight); the second bounds sessions and their lifetimes.
 */
export interface SyncLimits {
  /** Largest message accepted, in bytes (default 1 MiB, the net frame limit). */
  maxMessageBytes: number
  /**
   * Most feed bytes in one patch, all its segments together (default 256 KiB); senders
   * chunk to it. At least {@link MIN_PATCH_BYTES}; `maxMessageBytes` must hold it plus
   * {@link SEGMENT_OVERHEAD_BYTES} per segment and {@link PATCH_OVERHEAD_BYTES}.
   */
  maxPatchBytes: number
  /** Most chains (segments) in one patch (default 512). */
  maxPatchChains: number
  /**
   * Most entries in one `ranges` message, a split counting 16 (default 4096, about 45 KiB
   * of fingerprints in splits).
   * At least 16 (a split). Past it: `KERNEL_TOO_LARGE`; a sender drops what does not fit
   * and says where it stopped (`resume`).
   */
  maxRanges: number
  /**
   * Most item tags and heads in one `ranges` or `have` message (default 16 384, at most
   * 128 KiB of tags). At least `listItems`. Past it: `KERNEL_TOO_LARGE`.
   */
  maxItems: number
  /**
   * A differing range where the sender holds at most this many items is listed as item
   * tags (8 B each, 4 B for a one-block chain) rather than split into its 16 children
   * (default 48: a list of 48 tags costs about what a split of ~170 B does).
   */
  listItems: number
  /**
   * Reconciliation work a peer may cause in one session, in range entries, item tags and
   * heads received and chains read to find the items of a short list in a range we hold
   * many more of, plus 4 per item this kernel holds (default 65 536: a liar whose every
   * fingerprint differs costs at most what a version 1 summary of `maxRemoteChains` did,
   * plus four passes over what we hold). Past it: `KERNEL_MISBEHAVING`, destroyed.
   */
  maxReconcileWork: number
  /**
   * Most chains a session remembers the peer's head of (default 65 536; a packed table of
   * about 250 B each); past it a chain's blocks may be offered again (the peer ignores them).
   */
  maxRemoteChains: number
  /**
   * Peers a kernel pushes a relayed change to at once (default 1, preferring direct links);
   * the others get a `have` and ask with `want` if they lack it. Blocks made here go to
   * every peer at once. 0 (the only limit that may be 0): relayed changes are only
   * announced, so their bytes go only to peers that lack them (what `@picostack/relay` does).
   */
  eagerPeers: number
  /**
   * Time a `want` sent for an announced head waits before another peer's `have` of it may
   * send another (default 2000 ms): one announced block is fetched from one peer at a time.
   */
  wantRetryMs: number
  /**
   * Most chains a peer may have asked for with `want` that wait to be sent (default 4096).
   * Past it: `KERNEL_FLOOD`. Also the most announced chains this kernel asks for at once,
   * a quarter of them for one peer's announcements (past it: not asked, until `wantRetryMs`).
   */
  maxWants: number
  /** Most bytes in a query or its answer payload (default 64 KiB). */
  maxQueryBytes: number
  /**
   * Most queries of a peer waiting for this kernel's answer (default 16); more are answered
   * `KERNEL_FLOOD` at once (not a strike: the asker's application may retry).
   */
  maxPendingQueries: number
  /**
   * Most bytes of a peer's messages received but not yet handled (default 16 MiB: a few
   * `ranges` messages and twice `patchWindow` full patches). Past it:
   * `KERNEL_FLOOD`, and the message is dropped.
   */
  maxInboxBytes: number
  /** Token bucket: messages a peer may send at once (default 2048). */
  burst: number
  /** Token bucket: messages per second refilled (default 1024). */
  ratePerSec: number
  /** Bad messages after which the peer is disconnected with `KERNEL_MISBEHAVING` (default 10). */
  maxStrikes: number
  /**
   * Patches a sender keeps in flight (sent, not yet acknowledged) (default 4); a peer with
   * more than twice as many waiting at the receiver gets `KERNEL_FLOOD`.
   */
  patchWindow: number
  /**
   * Most sessions at once, handshaken or not (default 64). A wire spawned past it is refused
   * with `KERNEL_TOO_MANY_SESSIONS` when it opens.
   */
  maxSessions: number
  /**
   * Most sessions at once per `address` given to `spawnWire({ address })` (default 8), so
   * one remote host cannot take every slot. Node ids are chosen by the peer, so they cannot
   * be the key; an address is what the transport knows (an IP address, a relay client).
   * Counted by `addressScope` (@picostack/net): an IPv6 address by its /64, since one host
   * may use any address of its prefix.
   */
  maxSessionsPerAddress: number
  /**
   * Time from `spawnWire()` to the peer's `hello`, ms (default 10 000). Past it the wire is
   * destroyed with `KERNEL_HANDSHAKE_TIMEOUT`.
   */
  handshakeTimeoutMs: number
  /**
   * Time a session may go without receiving anything, ms (default 60 000). Past it the wire
   * is closed with `KERNEL_IDLE_TIMEOUT`. Peers send `ping` after `keepaliveMs` of silence,
   * so an honest idle peer stays.
   */
  idleTimeoutMs: number
  /** Time without sending after which a session sends `ping`, ms (default 20 000). */
  keepaliveMs: number
}

/** The defaults of {@link SyncLimits}. */
export const DEFAULT_SYNC_LIMITS: Readonly<SyncLimits> = Object.freeze({
  maxMessageBytes: 1024 * 1024,
  maxPatchBytes: 256 * 1024,
  maxPatchChains: 512,
  maxRanges: 4096,
  maxItems: 16_384,
  listItems: 48,
  maxReconcileWork: 65_536,
  maxRemoteChains: 65_536,
  eagerPeers: 1,
  wantRetryMs: 2000,
  maxWants: 4096,
  maxQueryBytes: 64 * 1024,
  maxPendingQueries: 16,
  maxInboxBytes: 16 * 1024 * 1024,
  burst: 2048,
  ratePerSec: 1024,
  maxStrikes: 10,
  patchWindow: 4,
  maxSessions: 64,
  maxSessionsPerAddress: 8,
  handshakeTimeoutMs: 10_000,
  idleTimeoutMs: 60_000,
  keepaliveMs: 20_000,
})
