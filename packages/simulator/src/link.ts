import type { SimpleKernel } from '@picostack/kernel'
import { type FrameReceiver, frameWire } from '@picostack/net'
import type { LinkProfile } from './link-profile.ts'
import type { Prng } from './prng.ts'
import { type PlugHooks, trackedPlug } from './tracked-plug.ts'
import type { VirtualClock } from './virtual-clock.ts'

/** Longest timer a JavaScript runtime accepts, ms: wire reply timeouts are set to it. */
const MAX_TIMER_MS = 0x7fff_ffff

/** Counters of one peer's traffic, over every link and every restart. */
export interface TrafficStats {
  /** Frames this peer's side wrote (sync messages, replies and close frames). */
  framesOut: number
  /** Frames delivered to this peer. */
  framesIn: number
  /** Bytes this peer's side put on its links, retransmissions included. */
  bytesOut: number
  /** Bytes delivered to this peer. */
  bytesIn: number
  /** Transmissions of this peer's frames that were lost and sent again. */
  retransmits: number
}

/** What a link needs of a peer. */
export interface LinkPeer extends PlugHooks {
  /** The peer's name. */
  readonly name: string
  /** Its running kernel. */
  readonly kernel: SimpleKernel | undefined
  /** Its traffic counters. */
  readonly traffic: TrafficStats
  /** Its open and dialing links. */
  readonly links: Set<Link>
}

/** What a link needs of the simulator. */
export interface LinkHost {
  /** The simulation's clock. */
  readonly clock: VirtualClock
  /** Virtual time at the start of the simulation, ms since the epoch (trace times count from it). */
  readonly startMs: number
  /** Records a trace line. */
  trace(event: string, fields: Record<string, unknown>): void
  /** True when every frame goes into the trace. */
  readonly traceFrames: boolean
  /** Called once, when both ends of the link have closed. */
  linkClosed(link: Link): void
}

/** The states of a {@link Link}. */
export type LinkState = 'dialing' | 'open' | 'closed'

/** One direction of a link: frames are serialised at the bandwidth, then travel. */
class Pipe {
  #busyUntil = 0
  #lastArrival = 0
  /** Bytes put on this direction, retransmissions included. */
  bytes = 0

  constructor(
    private readonly link: Link,
    readonly from: LinkPeer,
    readonly to: LinkPeer,
    private readonly deliver: (bytes: Uint8Array) => void,
  ) {}

  send(frame: Uint8Array): void {
    const { host, profile, random } = this.link
    const now = host.clock.now()
    const txMs = (frame.length * 1000) / profile.bandwidthBytesPerSec
    let start = Math.max(now, this.#busyUntil)
    let end = start + txMs
    let retransmits = 0
    while (profile.loss > 0 && random.next() < profile.loss) {
      retransmits++
      start = end + profile.retransmitMs
      end = start + txMs
    }
    this.#busyUntil = end
    const arrival = Math.max(
      this.#lastArrival,
      end + profile.latencyMs + random.next() * profile.jitterMs,
    )
    this.#lastArrival = arrival
    const wireBytes = frame.length * (retransmits + 1)
    this.bytes += wireBytes
    this.from.traffic.framesOut++
    this.from.traffic.bytesOut += wireBytes
    this.from.traffic.retransmits += retransmits
    if (host.traceFrames) {
      host.trace('frame', {
        from: this.from.name,
        to: this.to.name,
        bytes: frame.length,
        startMs: start - host.startMs,
        endMs: end - host.startMs,
        retransmits,
        arriveMs: arrival - host.startMs,
      })
    }
    host.clock.setTimeout(() => {
      if (this.link.dead) return
      this.to.traffic.framesIn++
      this.to.traffic.bytesIn += frame.length
      this.deliver(frame)
    }, arrival - now)
  }
}

/** One side of a link. */
interface End {
  readonly peer: LinkPeer
  receiver: FrameReceiver | undefined
  closed: boolean
}

/**
 * A simulated connection between two peers: each kernel's wire (`spawnWire()`) is carried
 * as frames (`frameWire` of `@picostack/net`, the framing of TCP and WebSocket transports)
 * over two pipes (one each way) on virtual time, with the link's latency, jitter, bandwidth and
 * loss ({@link LinkProfile}). A graceful close sends the close frame; a reset (partition,
 * crash) drops what is in flight and ends each side with `SIM_LINK_RESET`.
 */
export class Link {
  /** `a~b`, the two peer names in the order the link was dialed. */
  readonly id: string
  /** Dialing until both kernels' wires open, then open, then closed. */
  state: LinkState = 'dialing'
  /** Set by a reset: frames in flight are dropped. */
  dead = false
  /** Virtual time it was dialed, ms. */
  readonly dialedAt: number
  readonly #ends: [End, End]
  readonly #pipes: [Pipe, Pipe]
  /** The first close reason either side gave. */
  #reason: Error | undefined

  /**
   * @param host - the simulator
   * @param a - the dialing peer
   * @param b - the dialed peer
   * @param profile - what the link is like
   * @param random - the link's own generator (jitter, loss)
   */
  constructor(
    readonly host: LinkHost,
    readonly a: LinkPeer,
    readonly b: LinkPeer,
    readonly profile: LinkProfile,
    readonly random: Prng,
  ) {
    this.id = `${a.name}~${b.name}`
    this.dialedAt = host.clock.now()
    this.#ends = [
      { peer: a, receiver: undefined, closed: false },
      { peer: b, receiver: undefined, closed: false },
    ]
    const [endA, endB] = this.#ends
    this.#pipes = [
      new Pipe(this, a, b, (bytes) => endB.receiver?.receive(bytes)),
      new Pipe(this, b, a, (bytes) => endA.receiver?.receive(bytes)),
    ]
  }

  /** Bytes carried both ways so far, retransmissions included. */
  get bytes(): number {
    return this.#pipes[0].bytes + this.#pipes[1].bytes
  }

  /** The peer at the other end from `peer`. */
  other(peer: LinkPeer): LinkPeer {
    return peer === this.a ? this.b : this.a
  }

  /** Opens both kernels' wires over the link (both peers must be running). */
  open(): void {
    if (this.state !== 'dialing') return
    this.state = 'open'
    this.host.trace('connect', { a: this.a.name, b: this.b.name })
    this.#ends.forEach((end, i) => {
      const pipe = this.#pipes[i]!
      const kernel = end.peer.kernel!
      end.receiver = frameWire(
        trackedPlug(kernel.spawnWire(), end.peer),
        {
          write: (bytes) => {
            if (!this.dead) pipe.send(bytes)
          },
          close: (reason) => this.#closed(end, reason),
        },
        { replyTimeoutMs: MAX_TIMER_MS },
      )
    })
  }

  /**
   * Cuts the link: frames in flight are dropped and each open side ends with `reason`,
   * after `delayMs(peer)` of virtual time (a crashed peer's side at once, the survivor's
   * when it would notice).
   */
  reset(reason: Error, delayMs: (peer: LinkPeer) => number = () => 0): void {
    if (this.state === 'closed') return
    this.dead = true
    if (this.state === 'dialing') {
      this.#finish(reason)
      return
    }
    for (const end of this.#ends) {
      if (end.closed) continue
      const delay = delayMs(end.peer)
      if (delay <= 0) end.receiver?.end(reason)
      else this.host.clock.setTimeout(() => end.receiver?.end(reason), delay)
    }
  }

  #closed(end: End, reason: Error | undefined): void {
    end.closed = true
    this.#reason ??= reason
    if (this.#ends.every((e) => e.closed)) this.#finish(this.#reason)
  }

  #finish(reason: Error | undefined): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.dead = true
    this.host.trace('disconnect', {
      a: this.a.name,
      b: this.b.name,
      ...(reason && { reason: (reason as { code?: string }).code ?? reason.message }),
    })
    this.host.linkClosed(this)
  }
}
