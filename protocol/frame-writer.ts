// Coalesces outgoing packets: every packet queued during one tick is copied into one buffer and
// leaves in one socket write (2-core machine: a syscall and two allocations per packet would
// dominate; see doc/performance.md).
import { HEADER_LEN, writeHeader } from './header';

export interface ByteSink {
  write(data: Buffer): boolean;
}

/**
 * A tick's first buffer. Under 4 KiB (half of Buffer.poolSize) it is a slice of Node's shared pool,
 * not an external allocation: a fresh 16 KiB buffer per tick (the earlier size) drove V8 into a
 * mark-compact every ~140 ms at 5,000 msg/s, one small packet per tick (doc/performance.md). A tick
 * that outgrows it gets a bigger one; the buffer goes to the socket at flush, so an idle connection
 * holds none.
 */
const INITIAL_BYTES = 4000;

export class FrameWriter {
  private buffer: Buffer | null = null;
  private used = 0;
  private scheduled = false;
  private closed = false;

  constructor(private readonly sink: ByteSink) {}

  /** Bytes queued and not yet handed to the socket. */
  get pendingBytes(): number {
    return this.used;
  }

  send(opaque: number, cmdType: number, body: Uint8Array): void {
    if (this.closed) return;
    const size = HEADER_LEN + body.length;
    this.reserve(size);
    const buffer = this.buffer!;
    writeHeader(buffer, this.used, opaque, cmdType, body.length);
    buffer.set(body, this.used + HEADER_LEN);
    this.used += size;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  private reserve(size: number): void {
    if (this.buffer !== null && this.used + size <= this.buffer.length) return;
    const next = Buffer.allocUnsafe(Math.max(INITIAL_BYTES, (this.used + size) * 2));
    if (this.buffer !== null && this.used > 0) this.buffer.copy(next, 0, 0, this.used);
    this.buffer = next;
  }

  readonly flush = (): void => {
    this.scheduled = false;
    if (this.closed || this.buffer === null || this.used === 0) return;
    // The socket keeps a reference to what it was given: hand over this slice and start afresh.
    const data = this.buffer.subarray(0, this.used);
    this.buffer = null;
    this.used = 0;
    this.sink.write(data);
  };

  close(): void {
    this.closed = true;
    this.buffer = null;
    this.used = 0;
  }
}
