// Streaming packet decoder: TCP chunks in, whole frames out. Handles a frame split over
// many chunks and many frames in one chunk; enforces the body-size cap before buffering.
import { isKnownCmdType } from './commands';
import { ProtocolError } from './errors';
import { BODY_LEN_OFFSET, CMD_TYPE_OFFSET, DEFAULT_MAX_BODY_BYTES, HEADER_LEN, OPAQUE_OFFSET } from './header';

export interface Frame {
  opaque: number;
  cmdType: number;
  body: Buffer;
}

export class FrameDecoder {
  private pending: Buffer | null = null;

  constructor(private readonly maxBodyBytes = DEFAULT_MAX_BODY_BYTES) {}

  /** Bytes received but not yet part of a whole frame (for per-connection memory limits). */
  get bufferedBytes(): number {
    return this.pending?.length ?? 0;
  }

  /**
   * Feeds one chunk; calls onFrame for every whole frame in order.
   * Throws ProtocolError on a bad header; the caller closes the connection.
   */
  push(chunk: Buffer, onFrame: (frame: Frame) => void): void {
    let data = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = null;
    let offset = 0;
    while (data.length - offset >= HEADER_LEN) {
      const cmdType = data.readUInt8(offset + CMD_TYPE_OFFSET);
      const bodyLen = data.readInt32BE(offset + BODY_LEN_OFFSET);
      if (!isKnownCmdType(cmdType)) {
        throw new ProtocolError(`unknown cmdType 0x${cmdType.toString(16)}`, 'header');
      }
      if (bodyLen < 0 || bodyLen > this.maxBodyBytes) {
        throw new ProtocolError(`bodyLen ${bodyLen} outside 0..${this.maxBodyBytes}`, 'body-size');
      }
      const end = offset + HEADER_LEN + bodyLen;
      if (end > data.length) break;
      const opaque = data.readUInt32BE(offset + OPAQUE_OFFSET);
      onFrame({ opaque, cmdType, body: data.subarray(offset + HEADER_LEN, end) });
      offset = end;
    }
    if (offset < data.length) {
      // Copy the tail so a small remainder does not pin a large chunk.
      this.pending = offset === 0 ? data : Buffer.from(data.subarray(offset));
    }
    data = Buffer.alloc(0);
  }
}
