/**
 * Smallest buffer allocated for the small pieces of a frame split across chunks (256 B),
 * unless the frame is smaller. Past it, that buffer doubles as bytes arrive.
 */
export const MIN_PARTIAL_FRAME_BYTES = 256

/**
 * Pieces of at least this many bytes (4 KiB) are kept as views of the chunk they came in,
 * not copied, when they fill at least half of that chunk's buffer.
 */
const MIN_VIEW_BYTES = 4096

/**
 * The bytes of one frame whose declared length is known but that arrives over several
 * chunks. Memory follows what arrived, not what was declared: large pieces are kept as
 * views of their chunks (each pinning at most twice its size), small ones are copied into a
 * buffer that at most doubles what it holds. So at most `2 × received +
 * MIN_PARTIAL_FRAME_BYTES` bytes are held, and a frame that arrives in large chunks (TCP
 * reads of 64 KiB) is copied once, when it completes, as if its whole length had been
 * allocated up front.
 */
export class PartialFrame {
  /** Bytes of the frame received so far. */
  filled = 0
  /** Pieces in arrival order, before {@link small}: chunk views and filled small buffers. */
  private readonly pieces: Uint8Array[] = []
  /** Bytes kept for {@link pieces}: the buffers their views pin. */
  private piecesBytes = 0
  /** Copy of the latest small pieces (the last part of the frame so far), or null. */
  private small: Uint8Array | null = null
  private smallFilled = 0

  /** @param declared - the frame's declared length (after the length prefix) */
  constructor(readonly declared: number) {}

  /** Bytes allocated or pinned for this frame. */
  get heldBytes(): number {
    return this.piecesBytes + (this.small?.length ?? 0)
  }

  /**
   * Adds the next bytes of the frame (at most `declared - filled`). A large `piece` may be
   * kept as a view until {@link take}: its chunk must not change meanwhile.
   */
  add(piece: Uint8Array): void {
    if (piece.length >= MIN_VIEW_BYTES && piece.length * 2 >= piece.buffer.byteLength) {
      this.sealSmall()
      this.pieces.push(piece)
      this.piecesBytes += piece.buffer.byteLength
    } else {
      const small = this.reserveSmall(piece.length)
      small.set(piece, this.smallFilled)
      this.smallFilled += piece.length
    }
    this.filled += piece.length
  }

  /** The complete frame body in one buffer of its own (call once `filled === declared`). */
  take(): Uint8Array {
    if (this.pieces.length === 0 && this.small?.length === this.declared) return this.small
    this.sealSmall()
    const body = new Uint8Array(this.declared)
    let at = 0
    for (const piece of this.pieces) {
      body.set(piece, at)
      at += piece.length
    }
    return body
  }

  /**
   * Moves the small buffer, as filled, to the pieces (a view is about to follow it), copied
   * to its exact size if it is less than half full.
   */
  private sealSmall(): void {
    const small = this.small
    if (small === null) return
    if (this.smallFilled > 0) {
      const piece =
        this.smallFilled * 2 < small.length
          ? small.slice(0, this.smallFilled)
          : small.subarray(0, this.smallFilled)
      this.pieces.push(piece)
      this.piecesBytes += piece.buffer.byteLength
    }
    this.small = null
    this.smallFilled = 0
  }

  /** The small buffer with room for `n` more bytes: doubled, never past the frame's end. */
  private reserveSmall(n: number): Uint8Array {
    const held = this.small
    const needed = this.smallFilled + n
    if (held && held.length >= needed) return held
    const room = this.declared - (this.filled - this.smallFilled)
    const grown = new Uint8Array(
      Math.min(room, Math.max(needed, 2 * (held?.length ?? 0), MIN_PARTIAL_FRAME_BYTES)),
    )
    if (held) grown.set(held.subarray(0, this.smallFilled))
    this.small = grown
    return grown
  }
}
