// A hand-written proto2 encoder for every packet body (the hot ones: store-ack, delivery, DeliverAck).
// protobufjs's Writer builds a linked list of op objects per field and then copies them into the
// result: short-lived garbage for every message on the broker's hottest path. Here a
// body is measured first, then written once into one buffer; the bytes are the same as protobufjs
// emits (fields in number order, required fields always, int32/int64 negatives as 10-byte varints),
// which the golden fixtures of test/protocol-golden.spec.ts check byte for byte.
import { writeAscii } from '../ascii';

/** wire types (protobuf encoding spec) */
const VARINT = 0;
const LENGTH_DELIMITED = 2;

export function tag(field: number, wireType: number): number {
  return (field << 3) | wireType;
}

/** Bytes of a non-negative varint below 2^53, or 10 for a negative int32/int64 (two's complement). */
export function varintSize(value: number): number {
  if (value < 0) return 10;
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  let size = 5;
  for (let rest = Math.floor(value / 0x800000000); rest > 0; rest = Math.floor(rest / 0x80)) size++;
  return size;
}

/** UTF-8 length; a loop for short ASCII (ids, topics, groups) avoids a call into C++. */
export function utf8Size(text: string): number {
  const n = text.length;
  if (n > 64) return Buffer.byteLength(text, 'utf8');
  for (let i = 0; i < n; i++) if (text.charCodeAt(i) >= 0x80) return Buffer.byteLength(text, 'utf8');
  return n;
}

/** Size of a length-delimited field holding `length` bytes (tag of fields 1–15 is one byte). */
export function delimitedSize(field: number, length: number): number {
  return varintSize(tag(field, LENGTH_DELIMITED)) + varintSize(length) + length;
}

export function stringFieldSize(field: number, text: string): number {
  return delimitedSize(field, utf8Size(text));
}

export function varintFieldSize(field: number, value: number): number {
  return varintSize(tag(field, VARINT)) + varintSize(value);
}

/** Writes into a buffer sized by the *Size functions; `pos` is where the next byte goes. */
export class ProtoWriter {
  pos: number;

  constructor(
    readonly buffer: Buffer,
    start = 0,
  ) {
    this.pos = start;
  }

  varint(value: number): this {
    const buffer = this.buffer;
    let pos = this.pos;
    if (value < 0) return this.negative(value);
    while (value >= 0x80000000) {
      buffer[pos++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    while (value >= 0x80) {
      buffer[pos++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    buffer[pos++] = value;
    this.pos = pos;
    return this;
  }

  /**
   * A negative int32/int64 in two's complement over 64 bits: always 10 bytes. Split into 32-bit
   * halves as protobufjs's LongBits.fromNumber does (no BigInt: -1 is every default expiredTime).
   */
  private negative(value: number): this {
    const magnitude = -value;
    let lo = magnitude >>> 0;
    let hi = ((magnitude - lo) / 4294967296) >>> 0;
    hi = ~hi >>> 0;
    lo = ~lo >>> 0;
    if (++lo > 0xffffffff) {
      lo = 0;
      if (++hi > 0xffffffff) hi = 0;
    }
    const buffer = this.buffer;
    let pos = this.pos;
    while (hi !== 0) {
      buffer[pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    while (lo > 0x7f) {
      buffer[pos++] = (lo & 0x7f) | 0x80;
      lo >>>= 7;
    }
    buffer[pos++] = lo;
    this.pos = pos;
    return this;
  }

  varintField(field: number, value: number): this {
    return this.varint(tag(field, VARINT)).varint(value);
  }

  boolField(field: number, value: boolean): this {
    return this.varint(tag(field, VARINT)).varint(value ? 1 : 0);
  }

  /** Tag and length of a length-delimited field whose `length` bytes the caller writes next. */
  delimited(field: number, length: number): this {
    return this.varint(tag(field, LENGTH_DELIMITED)).varint(length);
  }

  stringField(field: number, text: string): this {
    const n = text.length;
    if (field < 16 && n < 0x80) {
      // Short ASCII (ids, topics, groups): one pass that writes and checks at once; a one-byte tag
      // and length. The buffer was measured with the UTF-8 size (≥ n), so a non-ASCII text that
      // bails out has written only inside it, and is then written again from the start.
      const buffer = this.buffer;
      const start = this.pos;
      buffer[start] = tag(field, LENGTH_DELIMITED);
      buffer[start + 1] = n;
      const end = writeAscii(buffer, start + 2, text);
      if (end >= 0) {
        this.pos = end;
        return this;
      }
    }
    const length = utf8Size(text);
    this.delimited(field, length);
    if (length === text.length) {
      this.pos = writeAscii(this.buffer, this.pos, text); // ASCII (utf8Size said so): never -1
    } else {
      this.pos += this.buffer.write(text, this.pos, length, 'utf8');
    }
    return this;
  }

  bytesField(field: number, bytes: Uint8Array): this {
    this.delimited(field, bytes.length);
    this.buffer.set(bytes, this.pos);
    this.pos += bytes.length;
    return this;
  }
}

/**
 * A writer over a fresh body of `size` bytes (under 4 KiB a slice of Node's pool: one object).
 * `finished` checks it was filled exactly (a mismatch is our bug, not bad input).
 */
export function writerOf(size: number): ProtoWriter {
  return new ProtoWriter(Buffer.allocUnsafe(size));
}

export function finished(writer: ProtoWriter, size: number, what: string): Buffer {
  if (writer.pos !== size) throw new Error(`${what}: encoded ${writer.pos} bytes, measured ${size}`);
  return writer.buffer;
}
