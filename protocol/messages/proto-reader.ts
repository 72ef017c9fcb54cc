// A hand-written proto2 reader for every packet body, the counterpart of proto-writer.ts: it reads
// straight into the plain objects the broker and client use. A field cut short, an unterminated
// varint, a wrong wire type for a known field or a missing required field throws; unknown fields
// are skipped. test/protocol-codec-parity.spec.ts checks it agrees with protobufjs.

import { decodeName, MAX_NAME_BYTES } from './name-cache';

export const WireType = Object.freeze({ VARINT: 0, FIXED64: 1, BYTES: 2, START_GROUP: 3, END_GROUP: 4, FIXED32: 5 });

const MAX_VARINT_BYTES = 10;
/** below this a kept field is always copied: a copy costs less than deciding, and never pins a pool slab */
const VIEW_MIN_BYTES = 4096;
const MAX_GROUP_DEPTH = 100;

export class ProtoReader {
  pos: number;
  end: number;

  constructor(
    readonly buf: Buffer,
    start = 0,
    end = buf.length,
  ) {
    this.pos = start;
    this.end = end;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  private fail(what: string): never {
    throw new RangeError(`${what} at ${this.pos} of ${this.end}`);
  }

  /** The low 32 bits of a varint of up to 10 bytes, as an unsigned number. */
  uint32(): number {
    const buf = this.buf;
    let value = 0;
    for (let i = 0, shift = 0; i < MAX_VARINT_BYTES; i++, shift += 7) {
      if (this.pos >= this.end) this.fail('unterminated varint');
      const byte = buf[this.pos++];
      if (shift < 32) value |= (byte & 0x7f) << shift;
      if (byte < 0x80) return value >>> 0;
    }
    return this.fail('varint over 10 bytes');
  }

  int32(): number {
    return this.uint32() | 0;
  }

  bool(): boolean {
    return this.uint32() !== 0;
  }

  /**
   * A signed 64-bit varint as a number (every KiteQ int64 is a time or a count, far below 2^53).
   * Read as two 32-bit halves in small-integer arithmetic (no doubles or BigInts per byte on the hot
   * path), then combined the way protobufjs's LongBits.toNumber does.
   */
  int64(): number {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    let lo = 0;
    let hi: number;
    let byte: number;
    for (let shift = 0; shift < 28; shift += 7) {
      if (pos >= end) this.fail('unterminated varint');
      byte = buf[pos++];
      lo |= (byte & 0x7f) << shift;
      if (byte < 0x80) {
        this.pos = pos;
        return lo;
      }
    }
    if (pos >= end) this.fail('unterminated varint');
    byte = buf[pos++];
    lo |= (byte & 0x0f) << 28; // the 5th byte: 4 bits to the low half, 3 to the high half
    hi = (byte & 0x7f) >> 4;
    for (let shift = 3; byte >= 0x80; shift += 7) {
      if (shift > 31) this.fail('varint over 10 bytes');
      if (pos >= end) this.fail('unterminated varint');
      byte = buf[pos++];
      hi |= (byte & 0x7f) << shift;
    }
    this.pos = pos;
    if (hi >>> 31 === 0) return hi * 4294967296 + (lo >>> 0);
    // negative: two's complement over 64 bits
    const negLo = (~lo + 1) >>> 0;
    let negHi = ~hi >>> 0;
    if (negLo === 0) negHi = (negHi + 1) >>> 0;
    return -(negLo + negHi * 4294967296);
  }

  /** Start and end of a length-delimited field's bytes; the reader moves past them. */
  private span(): number {
    const length = this.uint32();
    const start = this.pos;
    if (length > this.end - start) this.fail(`field of ${length} bytes runs past the end`);
    this.pos = start + length;
    return start;
  }

  string(): string {
    const start = this.span();
    return start === this.pos ? '' : this.buf.toString('utf8', start, this.pos);
  }

  /** A string field that repeats across packets (topic, type, group): decoded once (name-cache.ts). */
  name(): string {
    const start = this.span();
    const length = this.pos - start;
    if (length === 0) return '';
    return length <= MAX_NAME_BYTES
      ? decodeName(this.buf, start, this.pos)
      : this.buf.toString('utf8', start, this.pos);
  }

  /**
   * The bytes, to be kept: a view when they are most of the buffer under them (a frame that arrived
   * in parts has a buffer of its own: a large body is not copied again), else a copy, so a small
   * body kept does not pin the socket chunk it arrived in.
   */
  bytesKept(): Buffer {
    const start = this.span();
    const length = this.pos - start;
    if (length >= VIEW_MIN_BYTES && 2 * length >= this.buf.buffer.byteLength) return this.buf.subarray(start, this.pos);
    const copy = Buffer.allocUnsafe(length);
    this.buf.copy(copy, 0, start, this.pos);
    return copy;
  }

  /** A reader over an embedded message; this reader moves past it. */
  embedded(): ProtoReader {
    const start = this.span();
    return new ProtoReader(this.buf, start, this.pos);
  }

  /** Skips a field of an unknown number (protobuf encoding: every wire type but END_GROUP alone). */
  skip(wireType: number, depth = 0): void {
    switch (wireType) {
      case WireType.VARINT:
        this.uint32();
        return;
      case WireType.FIXED64:
        return this.advance(8);
      case WireType.BYTES:
        this.span();
        return;
      case WireType.FIXED32:
        return this.advance(4);
      case WireType.START_GROUP: {
        if (depth >= MAX_GROUP_DEPTH) this.fail('groups nested too deep');
        for (;;) {
          const tag = this.uint32();
          if ((tag & 7) === WireType.END_GROUP) return;
          this.skip(tag & 7, depth + 1);
        }
      }
      default:
        this.fail(`invalid wire type ${wireType}`);
    }
  }

  private advance(bytes: number): void {
    if (bytes > this.end - this.pos) this.fail(`fixed field of ${bytes} bytes runs past the end`);
    this.pos += bytes;
  }

  /** Throws unless the field's wire type is the one its number is declared with. */
  expect(tag: number, wireType: number): void {
    if ((tag & 7) !== wireType) this.fail(`field ${tag >>> 3} has wire type ${tag & 7}, not ${wireType}`);
  }
}

/** A Buffer view of any Uint8Array (no copy). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Throws the protobufjs-style message for the first required field not seen (bit i = names[i]). */
export function assertRequired(seen: number, names: readonly string[], what: string): void {
  const all = (1 << names.length) - 1;
  if ((seen & all) === all) return;
  for (let i = 0; i < names.length; i++)
    if ((seen & (1 << i)) === 0) throw new Error(`${what}: missing required '${names[i]}'`);
}
