// Streaming packet decoder: TCP chunks in, whole frames out. Handles a frame split over
// many chunks and many frames in one chunk; enforces the body-size cap before buffering.
import { isKnownCmdType } from './commands';
import { ProtocolError } from './errors';
import { BODY_LEN_OFFSET, CMD_TYPE_OFFSET, DEFAULT_MAX_BODY_BYTES, HEADER_LEN, OPAQUE_OFFSET } from './packet-header';

export interface Frame {
  opaque: number;
  cmdType: number;
  body: Buffer;
}

/**
 * A piece of a body arriving in parts kept as a view of its chunk from this size up; a smaller one is
 * copied into a small buffer of its own, so pieces trickled in a byte at a time cost no object each.
 */
const VIEW_BYTES = 16 * 1024;
/** the least such a small buffer holds (less when the body has fewer bytes to come) */
const SMALL_BYTES = 4096;

/** A big-endian int32 by byte loads: readInt32BE validates its arguments on every call (every frame here). */
function int32At(buf: Buffer, at: number): number {
  return (buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!;
}

export class FrameDecoder {
  /**
   * The frame being received in parts (doc/protocol.md "Frame decoding cost"): its header in `head`,
   * its body in `pieces`, in order. Each byte is copied once, when the whole body is joined into one
   * buffer of its size; what is held meanwhile is at most the bytes received plus one small buffer.
   */
  private readonly head = Buffer.allocUnsafe(HEADER_LEN);
  private inProgress = false;
  private headLen = 0;
  private pieces: Buffer[] = [];
  /** the small buffer the last piece went into, and how much of it is used */
  private small: Buffer | null = null;
  private smallLen = 0;
  private bodyGot = 0;
  /** bodyLen of the frame in progress; -1 while its header is incomplete */
  private bodyLen = -1;

  /** bodyLen past which a header is refused; the broker raises it once a connection has authenticated */
  constructor(public maxBodyBytes = DEFAULT_MAX_BODY_BYTES) {}

  /** Bytes received but not yet part of a whole frame (for per-connection memory limits). */
  get bufferedBytes(): number {
    return this.headLen + this.bodyGot;
  }

  /**
   * Feeds one chunk; calls onFrame for every whole frame in order.
   * Throws ProtocolError on a bad header; the caller closes the connection.
   */
  push(chunk: Buffer, onFrame: (frame: Frame) => void): void {
    let offset = 0;
    if (this.inProgress) {
      offset = this.fill(chunk, 0);
      if (this.bodyLen < 0 || this.bodyGot < this.bodyLen) return;
      onFrame(this.takePart());
    }
    // Whole frames are read in place: a body is a view of the chunk, never a copy.
    while (chunk.length - offset >= HEADER_LEN) {
      const end = offset + HEADER_LEN + this.bodyLenOf(chunk, offset);
      if (end > chunk.length) break;
      onFrame({
        opaque: int32At(chunk, offset + OPAQUE_OFFSET) >>> 0,
        cmdType: chunk[offset + CMD_TYPE_OFFSET]!,
        body: chunk.subarray(offset + HEADER_LEN, end),
      });
      offset = end;
    }
    if (offset < chunk.length) {
      this.inProgress = true;
      this.fill(chunk, offset);
    }
  }

  /** Checks a header; its bodyLen. */
  private bodyLenOf(data: Buffer, offset: number): number {
    const cmdType = data[offset + CMD_TYPE_OFFSET]!;
    const bodyLen = int32At(data, offset + BODY_LEN_OFFSET);
    if (!isKnownCmdType(cmdType)) {
      throw new ProtocolError(`unknown cmdType 0x${cmdType.toString(16)}`, 'header');
    }
    if (bodyLen < 0 || bodyLen > this.maxBodyBytes) {
      throw new ProtocolError(`bodyLen ${bodyLen} outside 0..${this.maxBodyBytes}`, 'body-size');
    }
    return bodyLen;
  }

  /** Takes from chunk[from..] what the frame in progress still lacks; returns where in chunk it stopped. */
  private fill(chunk: Buffer, from: number): number {
    let at = from;
    if (this.bodyLen < 0) {
      const taken = Math.min(chunk.length - at, HEADER_LEN - this.headLen);
      chunk.copy(this.head, this.headLen, at, at + taken);
      this.headLen += taken;
      at += taken;
      if (this.headLen < HEADER_LEN) return at;
      this.bodyLen = this.bodyLenOf(this.head, 0);
    }
    const want = Math.min(chunk.length - at, this.bodyLen - this.bodyGot);
    if (want === 0) return at;
    if (want >= VIEW_BYTES) {
      // a large piece: kept as it is (it is most of its chunk), copied only when the body is joined
      this.small = null;
      this.pieces.push(chunk.subarray(at, at + want));
    } else {
      if (this.small === null || this.small.length - this.smallLen < want) {
        this.small = Buffer.allocUnsafe(Math.min(this.bodyLen - this.bodyGot, Math.max(SMALL_BYTES, want)));
        this.smallLen = 0;
        this.pieces.push(this.small.subarray(0, 0));
      }
      chunk.copy(this.small, this.smallLen, at, at + want);
      this.smallLen += want;
      this.pieces[this.pieces.length - 1] = this.small.subarray(0, this.smallLen);
    }
    this.bodyGot += want;
    return at + want;
  }

  /** The frame received in parts, its body joined into one buffer of its own; the decoder starts afresh. */
  private takePart(): Frame {
    const { head, pieces, bodyLen } = this;
    const body =
      pieces.length === 1 && pieces[0].length === bodyLen && pieces[0].buffer.byteLength === bodyLen
        ? pieces[0]
        : Buffer.concat(pieces, bodyLen);
    const frame = { opaque: int32At(head, OPAQUE_OFFSET) >>> 0, cmdType: head[CMD_TYPE_OFFSET]!, body };
    this.inProgress = false;
    this.headLen = this.bodyGot = this.smallLen = 0;
    this.bodyLen = -1;
    this.pieces = [];
    this.small = null;
    return frame;
  }
}
