// message Header { required string messageId = 1; required string topic = 2; required string messageType = 3;
//   required int64 expiredTime = 4 [default = -1]; required int32 deliverLimit = 5 [default = 100];
//   required string groupId = 6; required bool commit = 7; required bool fly = 8 [default = false];
//   repeated Entry properties = 9; optional int64 createTime = 10; optional bool snappy = 11; }
import { ProtoReader, WireType, asBuffer, assertRequired } from './proto-reader';
import { ProtoWriter, finished, stringFieldSize, varintFieldSize, delimitedSize, writerOf } from './proto-writer';

export interface Entry {
  key: string;
  value: string;
}

/** The message header as the broker and client use it: proto2 defaults applied, int64 as numbers (seconds). */
export interface MessageHeader {
  messageId: string;
  topic: string;
  messageType: string;
  /** unix seconds; -1 = unset */
  expiredTime: number;
  deliverLimit: number;
  /** the publishing group */
  groupId: string;
  commit: boolean;
  fly: boolean;
  properties: Entry[];
  /** unix seconds */
  createTime?: number;
  snappy?: boolean;
}

export function encodeHeader(header: MessageHeader): Uint8Array {
  const size = headerSize(header);
  return finished(writeHeaderFields(writerOf(size), header), size, 'Header');
}

function entrySize(entry: Entry): number {
  return stringFieldSize(1, entry.key) + stringFieldSize(2, entry.value);
}

/** Encoded size of a Header (without the tag and length of the field that holds it). */
export function headerSize(h: MessageHeader): number {
  let size =
    stringFieldSize(1, h.messageId) +
    stringFieldSize(2, h.topic) +
    stringFieldSize(3, h.messageType) +
    varintFieldSize(4, h.expiredTime) +
    varintFieldSize(5, h.deliverLimit) +
    stringFieldSize(6, h.groupId) +
    4; // commit (field 7) and fly (field 8): a tag byte and a value byte each
  for (let i = 0; i < h.properties.length; i++) size += delimitedSize(9, entrySize(h.properties[i]));
  if (h.createTime != null) size += varintFieldSize(10, h.createTime);
  if (h.snappy != null) size += 2;
  return size;
}

/** The Header's fields in number order, as protobufjs writes them (optional ones only when set). */
export function writeHeaderFields(w: ProtoWriter, h: MessageHeader): ProtoWriter {
  w.stringField(1, h.messageId)
    .stringField(2, h.topic)
    .stringField(3, h.messageType)
    .varintField(4, h.expiredTime)
    .varintField(5, h.deliverLimit)
    .stringField(6, h.groupId)
    .boolField(7, h.commit)
    .boolField(8, h.fly);
  for (let i = 0; i < h.properties.length; i++) {
    const entry = h.properties[i];
    w.delimited(9, entrySize(entry)).stringField(1, entry.key).stringField(2, entry.value);
  }
  if (h.createTime != null) w.varintField(10, h.createTime);
  if (h.snappy != null) w.boolField(11, h.snappy);
  return w;
}

export function decodeHeader(bytes: Uint8Array): MessageHeader {
  return readHeader(new ProtoReader(asBuffer(bytes)));
}

const HEADER_REQUIRED = [
  'messageId',
  'topic',
  'messageType',
  'expiredTime',
  'deliverLimit',
  'groupId',
  'commit',
  'fly',
] as const;
const ENTRY_REQUIRED = ['key', 'value'] as const;

/**
 * A decoded header with the proto2 defaults, built by a constructor rather than an object literal.
 * V8 pretenures a literal's allocation site once most of its objects survive a scavenge (one
 * 64 KiB read decodes ~100 headers at once), and every header would then be born in the old
 * generation while its message is young (doc/performance-log.md). A constructor call has no
 * allocation site. Its prototype is Object.prototype, so a decoded header is still a plain object
 * (spreads, JSON, deepStrictEqual).
 */
const DecodedHeader = function (this: MessageHeader) {
  this.messageId = '';
  this.topic = '';
  this.messageType = '';
  this.expiredTime = -1;
  this.deliverLimit = 100;
  this.groupId = '';
  this.commit = false;
  this.fly = false;
  this.properties = [];
} as unknown as new () => MessageHeader;
DecodedHeader.prototype = Object.prototype;

/** Reads a Header straight into a plain object (proto-reader.ts); optional fields only when on the wire. */
export function readHeader(r: ProtoReader): MessageHeader {
  const h = new DecodedHeader();
  let seen = 0;
  while (!r.done) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        r.expect(tag, WireType.BYTES);
        h.messageId = r.string();
        seen |= 1;
        break;
      case 2:
        r.expect(tag, WireType.BYTES);
        h.topic = r.name();
        seen |= 2;
        break;
      case 3:
        r.expect(tag, WireType.BYTES);
        h.messageType = r.name();
        seen |= 4;
        break;
      case 4:
        r.expect(tag, WireType.VARINT);
        h.expiredTime = r.int64();
        seen |= 8;
        break;
      case 5:
        r.expect(tag, WireType.VARINT);
        h.deliverLimit = r.int32();
        seen |= 16;
        break;
      case 6:
        r.expect(tag, WireType.BYTES);
        h.groupId = r.name();
        seen |= 32;
        break;
      case 7:
        r.expect(tag, WireType.VARINT);
        h.commit = r.bool();
        seen |= 64;
        break;
      case 8:
        r.expect(tag, WireType.VARINT);
        h.fly = r.bool();
        seen |= 128;
        break;
      case 9:
        r.expect(tag, WireType.BYTES);
        h.properties.push(readEntry(r.embedded()));
        break;
      case 10:
        r.expect(tag, WireType.VARINT);
        h.createTime = r.int64();
        break;
      case 11:
        r.expect(tag, WireType.VARINT);
        h.snappy = r.bool();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  assertRequired(seen, HEADER_REQUIRED, 'Header');
  return h;
}

function readEntry(r: ProtoReader): Entry {
  const entry: Entry = { key: '', value: '' };
  let seen = 0;
  while (!r.done) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        r.expect(tag, WireType.BYTES);
        entry.key = r.name();
        seen |= 1;
        break;
      case 2:
        r.expect(tag, WireType.BYTES);
        entry.value = r.string();
        seen |= 2;
        break;
      default:
        r.skip(tag & 7);
    }
  }
  assertRequired(seen, ENTRY_REQUIRED, 'Entry');
  return entry;
}

export function propertiesOf(header: MessageHeader): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { key, value } of header.properties) out[key] = value;
  return out;
}
