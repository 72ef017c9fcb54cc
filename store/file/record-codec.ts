// The on-disk record of the file store (doc/architecture.md §8; layout in doc/file-store.md):
//   u32 payloadLength | u32 crc32c(type + payload) | u8 type | payload
// Three record types rebuild every message's exact state on replay:
//   MESSAGE  id, topic, full state, then the immutable message (msgType, publishTime, kiteServer, header, body)
//   STATE    id, full state: the latest one wins, so only the latest per message must be kept on disk
//   DELETE   id: a tombstone (delete, rollback)
import { crc32c } from '@node-rs/crc32';
import { writeAscii } from '../../protocol/ascii';
import { CmdType } from '../../protocol/commands';
import { crc32cRange, SMALL_CRC_BYTES } from './crc32c-small';
import { decodeHeader, encodeHeader, type MessageHeader } from '../../protocol/messages/header';
import type { MessageCmd } from '../../protocol/messages/message';

export const RECORD_HEADER_BYTES = 9;
/** a length beyond this is damage, not a record */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;

export const RecordType = Object.freeze({ MESSAGE: 1, STATE: 2, DELETE: 3 });

export const StateFlag = Object.freeze({ COMMITTED: 1, DEAD: 2 });
/**
 * On disk only: a u32 deliverAtSec ends the state (doc/delayed-delivery.md "Counting"). Derived from
 * MessageState.deliverAtSec when written, not kept in `flags`; above the index's slot flags.
 */
const SCHEDULED_ON_DISK = 32;

/** Everything about a message that changes after save (doc/architecture.md §6, §7). */
export interface MessageState {
  flags: number;
  deliverCount: number;
  checkCount: number;
  nextDeliverTime: number;
  succGroups: string[];
  failGroups: string[];
  /** only with StateFlag.DEAD */
  deadTime: number;
  deadReason: string;
  /** ⌈kiteq.deliverAt / 1000⌉ from the header, 0 when none: the scheduled count survives replay without decoding headers */
  deliverAtSec: number;
}

/** What never changes after save: read from disk or the body cache. */
export interface ImmutableMessage {
  header: MessageHeader;
  msgType: MessageCmd;
  body: Buffer | string;
  publishTime: number;
  kiteServer: string;
}

/** a batch buffer above this is not kept for the next batch (a burst must not pin its peak) */
const KEEP_BYTES = 1024 * 1024;
const INITIAL_BYTES = 64 * 1024;

/**
 * A field this large is not copied into the batch: the batch's write() takes it as it is, between
 * the bytes formed before and after it (a large message body: doc/file-store.md "Large messages").
 */
export const BY_REFERENCE_BYTES = 16 * 1024;

/**
 * Forms records one after another into one growing buffer: a batch's records are encoded straight
 * into the bytes its write() sends, with no buffer per record and no concatenation (group-commit.ts
 * reuses it for the next batch once the write has landed). A large field is passed by reference:
 * the batch is then several pieces, written with one writev().
 */
export class RecordWriter {
  private buf: Buffer = Buffer.allocUnsafe(INITIAL_BYTES);
  private pos = 0;
  private start = 0;
  /** the batch before buf[cut]: pieces of buf and fields by reference, in order */
  private pieces: Buffer[] = [];
  private cut = 0;
  /** bytes of the fields by reference in the batch, and in the record begun last */
  private referenced = 0;
  private recordReferenced = 0;
  /**
   * The record begun last, once it has a field by reference: the piece holding its start (its
   * header is filled in there) and that piece's index in `pieces`; null until then.
   */
  private headPiece: Buffer | null = null;
  private headIndex = 0;
  private headOffset = 0;

  /** bytes formed since reset() */
  get length(): number {
    return this.pos + this.referenced;
  }

  /** the records formed since reset(), in order; valid until the next reset() */
  formed(): Buffer[] {
    const tail = this.buf.subarray(this.cut, this.pos);
    return this.pieces.length === 0 ? [tail] : tail.length > 0 ? [...this.pieces, tail] : this.pieces;
  }

  reset(): void {
    this.pos = this.cut = this.referenced = 0;
    this.pieces = [];
    if (this.buf.length > KEEP_BYTES) this.buf = Buffer.allocUnsafe(INITIAL_BYTES);
  }

  /** starts a record: its header is filled in by finish() */
  begin(sizeHint: number): void {
    this.start = this.pos;
    this.recordReferenced = 0;
    this.headPiece = null;
    this.room(RECORD_HEADER_BYTES + Math.min(sizeHint, 2 * BY_REFERENCE_BYTES));
    this.pos += RECORD_HEADER_BYTES;
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    // the pieces already cut keep the old buffer: they still hold the right bytes
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }
  u8(v: number): void {
    this.room(1);
    this.buf[this.pos++] = v;
  }
  u32(v: number): void {
    this.room(4);
    const buf = this.buf;
    const pos = this.pos;
    // byte stores: writeUInt32LE validates its arguments on every call
    buf[pos] = v;
    buf[pos + 1] = v >>> 8;
    buf[pos + 2] = v >>> 16;
    buf[pos + 3] = v >>> 24;
    this.pos = pos + 4;
  }
  f64(v: number): void {
    this.room(8);
    this.pos = this.buf.writeDoubleLE(v, this.pos);
  }
  str(s: string): void {
    const length = s.length;
    if (length <= 64) {
      // ASCII (ids, topics, groups): a JS loop, no calls into C++ for the size and the bytes
      this.room(4 + length);
      const end = writeAscii(this.buf, this.pos + 4, s);
      if (end >= 0) {
        this.u32(length);
        this.pos = end;
        return;
      }
    }
    const n = Buffer.byteLength(s);
    this.u32(n);
    this.room(n);
    this.pos += this.buf.write(s, this.pos);
  }
  /** UTF-8 bytes of `s` (byteLength known), no length prefix */
  utf8(s: string, byteLength: number): void {
    this.room(byteLength);
    this.pos += this.buf.write(s, this.pos);
  }
  /** the bytes of `b`, no length prefix; a large `b` is taken by reference and must not change until written */
  bytes(b: Uint8Array): void {
    if (b.length >= BY_REFERENCE_BYTES) {
      const piece = this.buf.subarray(this.cut, this.pos);
      if (this.headPiece === null) {
        this.headPiece = piece;
        this.headIndex = this.pieces.length;
        this.headOffset = this.start - this.cut;
      }
      if (piece.length > 0) this.pieces.push(piece);
      this.pieces.push(Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));
      this.cut = this.pos;
      this.referenced += b.length;
      this.recordReferenced += b.length;
      return;
    }
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  /** frames the record begun last: length, CRC over type + payload; returns its length in bytes */
  finish(type: number): number {
    const { buf, start, pos } = this;
    const length = pos - start + this.recordReferenced;
    if (this.headPiece === null) {
      buf.writeUInt32LE(length - RECORD_HEADER_BYTES, start);
      buf[start + 8] = type;
      const crc =
        pos - start - 8 < SMALL_CRC_BYTES ? crc32cRange(buf, start + 8, pos) : crc32c(buf.subarray(start + 8, pos));
      buf.writeUInt32LE(crc, start + 4);
      return length;
    }
    // The record spans pieces: its header is in the piece cut at its first field by reference (a
    // view: written here, it is what goes to disk), then come the pieces after it and buf's rest.
    const head = this.headPiece;
    const at = this.headOffset;
    head.writeUInt32LE(length - RECORD_HEADER_BYTES, at);
    head[at + 8] = type;
    let crc = crc32c(head.subarray(at + 8));
    for (let i = this.headIndex + 1; i < this.pieces.length; i++) crc = crc32c(this.pieces[i]!, crc);
    if (this.cut < pos) crc = crc32c(buf.subarray(this.cut, pos), crc);
    head.writeUInt32LE(crc, at + 4);
    return length;
  }
}

export class Reader {
  constructor(
    private readonly buf: Buffer,
    public pos: number,
  ) {}
  u8(): number {
    return this.buf[this.pos++]!;
  }
  u32(): number {
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  f64(): number {
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }
  str(): string {
    const n = this.u32();
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
}

function writeState(w: RecordWriter, id: string, state: MessageState): void {
  w.str(id);
  w.u8(state.deliverAtSec > 0 ? state.flags | SCHEDULED_ON_DISK : state.flags);
  w.u32(state.deliverCount);
  w.u32(state.checkCount);
  w.f64(state.nextDeliverTime);
  w.u32(state.succGroups.length);
  for (const g of state.succGroups) w.str(g);
  w.u32(state.failGroups.length);
  for (const g of state.failGroups) w.str(g);
  if (state.flags & StateFlag.DEAD) {
    w.f64(state.deadTime);
    w.str(state.deadReason);
  }
  if (state.deliverAtSec > 0) w.u32(state.deliverAtSec);
}

/** Reads what writeState wrote after the id. Group names go through `intern` so equal names share one string. */
export function readState(r: Reader, intern: (s: string) => string): MessageState {
  const onDisk = r.u8();
  const flags = onDisk & ~SCHEDULED_ON_DISK;
  const deliverCount = r.u32();
  const checkCount = r.u32();
  const nextDeliverTime = r.f64();
  const succGroups: string[] = [];
  for (let n = r.u32(); n > 0; n--) succGroups.push(intern(r.str()));
  const failGroups: string[] = [];
  for (let n = r.u32(); n > 0; n--) failGroups.push(intern(r.str()));
  let deadTime = 0;
  let deadReason = '';
  if (flags & StateFlag.DEAD) {
    deadTime = r.f64();
    deadReason = r.str();
  }
  const deliverAtSec = onDisk & SCHEDULED_ON_DISK ? r.u32() : 0;
  return {
    flags,
    deliverCount,
    checkCount,
    nextDeliverTime,
    succGroups,
    failGroups,
    deadTime,
    deadReason,
    deliverAtSec,
  };
}

export function decodeImmutable(buf: Buffer): ImmutableMessage {
  const r = new Reader(buf, 0);
  const msgType = r.u8() as MessageCmd;
  const publishTime = r.f64();
  const kiteServer = r.str();
  const headerLength = r.u32();
  const header = decodeHeader(buf.subarray(r.pos, r.pos + headerLength));
  const bodyBytes = buf.subarray(r.pos + headerLength);
  const body = msgType === CmdType.STRING_MESSAGE ? bodyBytes.toString('utf8') : Buffer.from(bodyBytes);
  return { header, msgType, body, publishTime, kiteServer };
}

/**
 * Appends the MESSAGE record of a new message to `w` in one pass: the bytes a copy of it by
 * encodeMessageRecord would have.
 */
export function encodeNewMessageRecord(
  w: RecordWriter,
  id: string,
  topic: string,
  state: MessageState,
  message: ImmutableMessage,
  encodedHeader?: Uint8Array,
): number {
  const header = encodedHeader ?? encodeHeader(message.header);
  const body = message.body;
  const bodyLength = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  w.begin(header.length + bodyLength + message.kiteServer.length + id.length + topic.length + 96);
  writeState(w, id, state);
  w.str(topic);
  w.u8(message.msgType);
  w.f64(message.publishTime);
  w.str(message.kiteServer);
  w.u32(header.length);
  w.bytes(header);
  if (typeof body === 'string') w.utf8(body, bodyLength);
  else w.bytes(body);
  return w.finish(RecordType.MESSAGE);
}

/** Appends a MESSAGE record whose immutable part is already encoded (compaction's copy). */
export function encodeMessageRecord(
  w: RecordWriter,
  id: string,
  topic: string,
  state: MessageState,
  immutable: Buffer,
): number {
  w.begin(immutable.length + id.length + topic.length + 64);
  writeState(w, id, state);
  w.str(topic);
  w.bytes(immutable);
  return w.finish(RecordType.MESSAGE);
}

export function encodeStateRecord(w: RecordWriter, id: string, state: MessageState): number {
  w.begin(96);
  writeState(w, id, state);
  return w.finish(RecordType.STATE);
}

export function encodeDeleteRecord(w: RecordWriter, id: string): number {
  w.begin(40);
  w.str(id);
  return w.finish(RecordType.DELETE);
}

/** Where a MESSAGE record's immutable part starts, for reads that skip the state. */
export function immutableOf(record: Buffer): Buffer {
  const r = new Reader(record, RECORD_HEADER_BYTES);
  r.str();
  readState(r, (s) => s);
  r.str();
  return record.subarray(r.pos);
}

/**
 * The publishTime and header of a MESSAGE record from its first bytes (the body is not needed), or
 * undefined when `prefix` ends before the header does: read the whole record then.
 */
export function decodeHead(prefix: Buffer): { publishTime: number; header: MessageHeader } | undefined {
  try {
    const r = new Reader(prefix, RECORD_HEADER_BYTES);
    r.str();
    readState(r, (s) => s);
    r.str();
    r.u8();
    const publishTime = r.f64();
    r.str();
    const headerLength = r.u32();
    if (r.pos + headerLength > prefix.length) return undefined;
    return { publishTime, header: decodeHeader(prefix.subarray(r.pos, r.pos + headerLength)) };
  } catch {
    return undefined; // a field ran past the prefix (a RangeError), or the header bytes were cut
  }
}

/** Frame check: 'ok', or why the bytes at `offset` are not a whole, intact record. */
export function checkFrame(buf: Buffer, offset: number, end: number): 'ok' | 'torn' | 'corrupt' {
  if (end - offset < RECORD_HEADER_BYTES) return 'torn';
  const length = buf.readUInt32LE(offset);
  if (length > MAX_RECORD_BYTES) return 'corrupt';
  if (end - offset < RECORD_HEADER_BYTES + length) return 'torn';
  const crc = buf.readUInt32LE(offset + 4);
  const recordEnd = offset + RECORD_HEADER_BYTES + length;
  const actual =
    length + 1 < SMALL_CRC_BYTES
      ? crc32cRange(buf, offset + 8, recordEnd)
      : crc32c(buf.subarray(offset + 8, recordEnd));
  if (actual !== crc) return 'corrupt';
  const type = buf[offset + 8];
  return type === RecordType.MESSAGE || type === RecordType.STATE || type === RecordType.DELETE ? 'ok' : 'corrupt';
}
