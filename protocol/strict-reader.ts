// Two places where protobufjs's reader accepts a cut-short body instead of failing; a truncated
// field is a protocol violation (design §2) and must not decode into a different value.
// Applied once, by pb.ts, after protobuf.configure() (which installs the int64 readers).
import * as protobuf from 'protobufjs/minimal';

/** The longest varint: 10 bytes for a 64-bit value. */
const MAX_VARINT_BYTES = 10;

export function installStrictReaders(): void {
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
