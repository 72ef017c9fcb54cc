// Places where protobufjs's reader accepts a cut-short or non-minimal body and decodes it into a
// different value, made to throw as protocol/messages/proto-reader.ts does, so that the reference
// decoders of the parity tests fail where ours must. Applied once, by protobufjs-reference.ts.
import * as protobuf from 'protobufjs/minimal';

/** The longest varint: 10 bytes for a 64-bit value. */
const MAX_VARINT_BYTES = 10;

export function installStrictReaders(): void {
  // Reader.uint32 (also behind int32, bool and every tag) reads 5 bytes and then skips 5 more
  // without looking at them, so a valid but non-minimal varint of 6–9 bytes (legal protobuf)
  // swallowed the start of the next field. Read to the first byte under 0x80, as the spec says,
  // keeping the low 32 bits (the same as proto-reader.ts, which the hot-path packets use).
  protobuf.Reader.prototype.uint32 = function readUint32Checked(this: protobuf.Reader): number {
    let value = 0;
    for (let i = 0, shift = 0; i < MAX_VARINT_BYTES; i++, shift += 7) {
      if (this.pos >= this.len) throw new RangeError(`unterminated varint at ${this.pos} of ${this.len}`);
      const byte = this.buf[this.pos++];
      if (shift < 32) value |= (byte & 0x7f) << shift;
      if (byte < 0x80) return value >>> 0;
    }
    throw new Error('invalid varint encoding');
  };

  // BufferReader.string clamps a length prefix that runs past the end (Math.min) and returns a
  // shorter string; Reader.bytes throws in the same case. Throw here too.
  protobuf.BufferReader.prototype.string = function readStringChecked(this: protobuf.BufferReader): string {
    const length = this.uint32();
    const end = this.pos + length;
    if (end > this.len) throw new RangeError(`index out of range: ${this.pos} + ${length} > ${this.len}`);
    const text = (this.buf as Buffer).toString('utf8', this.pos, end);
    this.pos = end;
    return text;
  };

  // readLongVarint, with at most 4 bytes left, takes the 4th byte as the last one even when its
  // continuation bit is set: a truncated int64 (HeartBeat.version, Header.createTime at the end of
  // a body) decoded to a wrong number. Check that the varint ends before the end of the body.
  const readInt64 = protobuf.Reader.prototype.int64;
  protobuf.Reader.prototype.int64 = function readInt64Checked(this: protobuf.Reader) {
    const limit = Math.min(this.len, this.pos + MAX_VARINT_BYTES);
    let end = this.pos;
    while (end < limit && this.buf[end] >= 0x80) end++;
    if (end >= limit) throw new RangeError(`unterminated varint at ${this.pos} of ${this.len}`);
    return readInt64.call(this);
  };
}
