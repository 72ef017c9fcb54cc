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

/** The least a frame arriving in pieces starts with, once its size is known (it may be smaller). */
const MIN_PART_BYTES = 4096;

export class FrameDecoder {
  /**
   * The frame being received in pieces: its first partLen bytes. Each byte is copied into it once;
   * it grows by doubling up to the frame's size, so a frame fed in 1-byte pieces costs linear
   * time and at most twice its received bytes (doc/protocol.md "Frame decoding cost").
   */
  private part: Buffer | null = null;
  private partLen = 0;
  /** HEADER_LEN + bodyLen of the frame in `part`; 0 while its header is incomplete */
  private partFrameLen = 0;

  /** bodyLen past which a header is refused; the broker raises it once a connection has authenticated */
  constructor(public maxBodyBytes = DEFAULT_MAX_BODY_BYTES) {}

  /** Bytes received but not yet part of a whole frame (for per-connection memory limits). */
  get bufferedBytes(): number {
    return this.partLen;
  }

  /**
   * Feeds one chunk; calls onFrame for every whole frame in order.
   * Throws ProtocolError on a bad header; the caller closes the connection.
   */
  push(chunk: Buffer, onFrame: (frame: Frame) => void): void {
    let offset = 0;
    if (this.part !== null) {
      offset = this.fill(chunk);
      if (this.partFrameLen === 0 || this.partLen < this.partFrameLen) return;
      const frame = this.part;
      const end = this.partFrameLen;
      this.part = null;
      this.partLen = this.partFrameLen = 0;
      onFrame({
        opaque: frame.readUInt32BE(OPAQUE_OFFSET),
        cmdType: frame.readUInt8(CMD_TYPE_OFFSET),
        body: frame.subarray(HEADER_LEN, end),
      });
    }
    // Whole frames are read in place: a body is a view of the chunk, never a copy.
    while (chunk.length - offset >= HEADER_LEN) {
      const end = offset + HEADER_LEN + this.bodyLenOf(chunk, offset);
      if (end > chunk.length) break;
      onFrame({
        opaque: chunk.readUInt32BE(offset + OPAQUE_OFFSET),
        cmdType: chunk.readUInt8(offset + CMD_TYPE_OFFSET),
        body: chunk.subarray(offset + HEADER_LEN, end),
      });
      offset = end;
    }
    if (offset < chunk.length) this.startPart(chunk, offset);
  }

  /** Checks a header; its bodyLen. */
  private bodyLenOf(data: Buffer, offset: number): number {
    const cmdType = data.readUInt8(offset + CMD_TYPE_OFFSET);
    const bodyLen = data.readInt32BE(offset + BODY_LEN_OFFSET);
    if (!isKnownCmdType(cmdType)) {
      throw new ProtocolError(`unknown cmdType 0x${cmdType.toString(16)}`, 'header');
    }
    if (bodyLen < 0 || bodyLen > this.maxBodyBytes) {
      throw new ProtocolError(`bodyLen ${bodyLen} outside 0..${this.maxBodyBytes}`, 'body-size');
    }
    return bodyLen;
  }

  /** The tail of a chunk starts a frame: copied, so a small remainder does not pin the chunk. */
  private startPart(chunk: Buffer, offset: number): void {
    const tail = chunk.length - offset;
    this.partFrameLen = tail >= HEADER_LEN ? HEADER_LEN + this.bodyLenOf(chunk, offset) : 0;
    const size = this.partFrameLen === 0 ? HEADER_LEN : Math.min(this.partFrameLen, Math.max(MIN_PART_BYTES, 2 * tail));
    this.part = Buffer.allocUnsafe(size);
    chunk.copy(this.part, 0, offset);
    this.partLen = tail;
  }

  /** Copies from chunk what the frame in `part` still lacks; returns how much of chunk it took. */
  private fill(chunk: Buffer): number {
    let taken = 0;
    if (this.partFrameLen === 0) {
      taken = Math.min(chunk.length, HEADER_LEN - this.partLen);
      chunk.copy(this.part!, this.partLen, 0, taken);
      this.partLen += taken;
      if (this.partLen < HEADER_LEN) return taken;
      this.partFrameLen = HEADER_LEN + this.bodyLenOf(this.part!, 0);
    }
    const want = Math.min(chunk.length - taken, this.partFrameLen - this.partLen);
    const needed = this.partLen + want;
    if (needed > this.part!.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.partFrameLen, Math.max(needed, 2 * this.part!.length)));
      this.part!.copy(grown, 0, 0, this.partLen);
      this.part = grown;
    }
    chunk.copy(this.part!, this.partLen, taken, taken + want);
    this.partLen = needed;
    return taken + want;
  }
}
