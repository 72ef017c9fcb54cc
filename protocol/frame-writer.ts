// Coalesces outgoing packets: the packets queued during one tick are copied into one buffer and
// leave in one socket write at the tick's end, or as soon as FLUSH_BYTES are queued (2-core
// machine: a syscall and two allocations per packet would dominate; see doc/performance-log.md).
import { HEADER_LEN, writeHeader } from './packet-header';

export interface ByteSink {
  write(data: Uint8Array): boolean;
}

/** A packet body written straight into the outgoing buffer (sendBody): no buffer of its own. */
export interface PacketBody {
  /** encoded size in bytes */
  size(): number;
  /** the body's last bytes, handed to the socket as they are after what writeTo wrote (a large body: never copied); null = none */
  tail(): Uint8Array | null;
  /** writes the first `size()` - tail().length bytes at `offset` of `buffer` */
  writeTo(buffer: Buffer, offset: number): void;
}

/**
 * A tick's first buffer. Under 4 KiB (half of Buffer.poolSize) it is a slice of Node's shared pool,
 * not an external allocation: a fresh 16 KiB buffer per tick, at one small packet per tick, drives
 * V8 into frequent mark-compacts (doc/performance-log.md). A tick that outgrows it gets a bigger
 * one; the buffer goes to the socket at flush, so an idle connection holds none.
 */
const INITIAL_BYTES = 4000;

/**
 * A tick's packets go to the socket once they reach this size, without waiting for the tick's end.
 * One 64 KiB read decodes ~100 publishes; holding all their acks and deliveries until the whole read
 * is processed leaves the peer idle meanwhile, and on 2 cores broker and clients then take turns
 * instead of overlapping (doc/performance-log.md). A 16 KiB write still carries ~25 deliveries
 * of 512 B or ~200 store-acks.
 */
const FLUSH_BYTES = 16 * 1024;

/**
 * A body (or body end) this large goes to the socket as it is, in a write of its own, rather than
 * copied into the tick's buffer: a copy of a 1 MiB body, into a fresh buffer per packet, costs more
 * than the extra write (doc/performance.md "Large messages and fan-out").
 */
export const BY_REFERENCE_BYTES = 16 * 1024;

const EMPTY = new Uint8Array(0);

export class FrameWriter {
  private buffer: Buffer | null = null;
  private used = 0;
  /** bytes of the packet begun and not yet ended */
  private reserved = 0;
  /** the body end of the packet begun last, handed over by reference at end() */
  private tail: Uint8Array | null = null;
  private scheduled = false;
  private closed = false;
  /** bytes of the last hand-over: the next tick's first buffer is sized by it */
  private lastHandedOver = 0;

  constructor(private readonly sink: ByteSink) {}

  /** Bytes queued and not yet handed to the socket. */
  get pendingBytes(): number {
    return this.used;
  }

  /**
   * A packet whose body is `body` followed by `tail` (a large message body, never copied). A large
   * body or tail goes to the socket as it is, after the header: the caller must not change it afterwards.
   */
  send(opaque: number, cmdType: number, body: Uint8Array, tail: Uint8Array | null = null): void {
    if (tail === null && body.length >= BY_REFERENCE_BYTES) {
      tail = body;
      body = EMPTY;
    }
    const at = this.begin(opaque, cmdType, body.length + (tail === null ? 0 : tail.length), tail);
    if (at < 0) return;
    this.buffer!.set(body, at);
    this.end();
  }

  /** A packet whose body encodes itself into the outgoing buffer (a delivery, a publish). */
  sendBody(opaque: number, cmdType: number, body: PacketBody): void {
    const at = this.begin(opaque, cmdType, body.size(), body.tail());
    if (at < 0) return;
    body.writeTo(this.buffer!, at);
    this.end();
  }

  /**
   * Starts a packet whose body the caller encodes in place (store-acks, deliveries: no buffer of
   * their own per packet): writes the header, reserves `bodyLength` bytes and returns where the body
   * goes in `target`, or -1 once closed. The body must be written before end(), with no other send
   * in between. With a `tail`, the body's last tail.length bytes are those bytes, handed to the
   * socket by reference at end() (a large message body: never copied); the caller writes the rest.
   */
  begin(opaque: number, cmdType: number, bodyLength: number, tail: Uint8Array | null = null): number {
    if (this.closed) return -1;
    const size = HEADER_LEN + bodyLength - (tail === null ? 0 : tail.length);
    this.reserve(size);
    writeHeader(this.buffer!, this.used, opaque, cmdType, bodyLength);
    this.reserved = size;
    this.tail = tail;
    return this.used + HEADER_LEN;
  }

  /** the buffer begin()'s offset points into */
  get target(): Buffer {
    return this.buffer!;
  }

  /** The body begun last is written: it joins this tick's packets. */
  end(): void {
    this.used += this.reserved;
    this.reserved = 0;
    if (this.tail !== null) {
      // what is queued (this packet's start included) leaves first, then the tail after it
      const tail = this.tail;
      this.tail = null;
      this.handOver();
      if (!this.closed) this.sink.write(tail);
      return;
    }
    if (this.used >= FLUSH_BYTES) this.handOver();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  private reserve(size: number): void {
    if (this.buffer !== null && this.used + size <= this.buffer.length) return;
    // A tick's first buffer is sized by the last hand-over (a busy consumer's tick is one allocation,
    // not three growing ones); never more than one hand-over's worth: the socket holds the whole
    // allocation until written.
    const want =
      this.buffer === null ? this.lastHandedOver + (this.lastHandedOver >> 3) + size : (this.used + size) * 2;
    const next = Buffer.allocUnsafe(Math.max(INITIAL_BYTES, Math.min(want, FLUSH_BYTES + size)));
    if (this.buffer !== null && this.used > 0) this.buffer.copy(next, 0, 0, this.used);
    this.buffer = next;
  }

  readonly flush = (): void => {
    this.scheduled = false;
    this.handOver();
  };

  private handOver(): void {
    if (this.closed || this.buffer === null || this.used === 0) return;
    // The socket keeps a reference to what it was given: hand over this slice and start afresh.
    const data = this.buffer.subarray(0, this.used);
    this.lastHandedOver = this.used;
    this.buffer = null;
    this.used = 0;
    this.sink.write(data);
  }

  close(): void {
    this.closed = true;
    this.buffer = null;
    this.tail = null;
    this.used = 0;
  }
}
