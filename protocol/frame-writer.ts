// Coalesces outgoing packets: every packet queued during one tick is copied into one buffer and
// leaves in one socket write (2-core machine: a syscall and two allocations per packet would
// dominate; see doc/performance.md).
import { HEADER_LEN, writeHeader } from './header';

export interface ByteSink {
  write(data: Buffer): boolean;
}

/** The staging buffer's first size; a tick that outgrows it gets a bigger one. */
const INITIAL_BYTES = 16 * 1024;
/**
 * A tick's bytes up to this size are copied out of the staging buffer into a buffer from Node's
 * shared pool, and the staging buffer is kept for the next tick. A fresh 16 KiB buffer per tick
 * (the earlier way) is external memory: at low rates, one small packet per tick, it drove V8 into
 * a mark-compact every ~140 ms and a p99 of 15 ms at 5,000 msg/s (doc/performance.md).
 */
const COPY_OUT_BYTES = 4096;

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
    let data: Buffer;
    if (this.used <= COPY_OUT_BYTES) {
      data = Buffer.allocUnsafe(this.used); // from the pool: no external allocation
      this.buffer.copy(data, 0, 0, this.used);
    } else {
      // The socket keeps a reference to what it was given: hand over this slice and start afresh.
      data = this.buffer.subarray(0, this.used);
      this.buffer = null;
    }
    this.used = 0;
    this.sink.write(data);
  };

  close(): void {
    this.closed = true;
    this.buffer = null;
    this.used = 0;
  }
}
