// message BytesMessage { required Header header = 1; required bytes body = 2; }   cmdType 0x11
// message StringMessage { required Header header = 1; required string body = 2; } cmdType 0x12
// Both travel as a publish (client→server) and as a delivery (server→client).
import { CmdType } from '../commands';
import { BY_REFERENCE_BYTES, type PacketBody } from '../frame-writer';
import { undecodable } from './decode';
import { type MessageHeader, headerSize, readHeader, writeHeaderFields } from './header';
import { ProtoReader, WireType, asBuffer, assertRequired } from './proto-reader';
import { delimitedSize, finished, ProtoWriter, utf8Size, writerOf } from './proto-writer';

export type MessageCmd = typeof CmdType.BYTES_MESSAGE | typeof CmdType.STRING_MESSAGE;

export type KiteMessage =
  | { cmdType: typeof CmdType.BYTES_MESSAGE; header: MessageHeader; body: Uint8Array }
  | { cmdType: typeof CmdType.STRING_MESSAGE; header: MessageHeader; body: string };

/** One pass over a measured buffer (proto-writer.ts): the delivery packet of every message. */
export function encodeMessage(message: KiteMessage): Uint8Array {
  const headerBytes = headerSize(message.header);
  const bodyBytes = message.cmdType === CmdType.BYTES_MESSAGE ? message.body.length : utf8Size(message.body);
  const size = delimitedSize(1, headerBytes) + delimitedSize(2, bodyBytes);
  const w = writeHeaderFields(writerOf(size).delimited(1, headerBytes), message.header);
  if (message.cmdType === CmdType.BYTES_MESSAGE) w.bytesField(2, message.body);
  else w.stringField(2, message.body);
  return finished(w, size, message.cmdType === CmdType.BYTES_MESSAGE ? 'BytesMessage' : 'StringMessage');
}

/**
 * A publish written straight into the connection's outgoing buffer (the client's send): the bytes
 * of encodeMessage, measured once however often a retry sends it; a large bytes body goes to the
 * socket as it is, after the rest (frame-writer.ts tail).
 */
export class MessagePacket implements PacketBody {
  private readonly headerBytes: number;
  private readonly bodyBytes: number;
  private readonly total: number;

  constructor(
    readonly cmdType: MessageCmd,
    readonly header: MessageHeader,
    readonly body: Uint8Array | string,
  ) {
    this.headerBytes = headerSize(header);
    this.bodyBytes = typeof body === 'string' ? utf8Size(body) : body.length;
    this.total = delimitedSize(1, this.headerBytes) + delimitedSize(2, this.bodyBytes);
  }

  size(): number {
    return this.total;
  }

  tail(): Uint8Array | null {
    return typeof this.body !== 'string' && this.bodyBytes >= BY_REFERENCE_BYTES ? this.body : null;
  }

  writeTo(buffer: Buffer, offset: number): void {
    const w = writeHeaderFields(new ProtoWriter(buffer, offset).delimited(1, this.headerBytes), this.header);
    const { body } = this;
    let end = offset + this.total;
    if (typeof body === 'string') w.stringField(2, body);
    else if (this.bodyBytes < BY_REFERENCE_BYTES) w.bytesField(2, body);
    else {
      w.delimited(2, this.bodyBytes);
      end -= this.bodyBytes;
    }
    finished(w, end, this.cmdType === CmdType.BYTES_MESSAGE ? 'BytesMessage' : 'StringMessage');
  }
}

/** encodeMessage with the Header's bytes already in hand (StoredMessage.encodedHeader): the same bytes. */
export function encodeMessageWithHeader(
  cmdType: MessageCmd,
  header: Uint8Array,
  body: Uint8Array | string,
): Uint8Array {
  const size = messageWithHeaderSize(header, body);
  const buffer = Buffer.allocUnsafe(size);
  writeMessageWithHeader(buffer, 0, size, cmdType, header, body);
  return buffer;
}

/** The encoded size of a message whose header is already encoded. */
export function messageWithHeaderSize(header: Uint8Array, body: Uint8Array | string): number {
  return delimitedSize(1, header.length) + delimitedSize(2, typeof body === 'string' ? utf8Size(body) : body.length);
}

/** encodeMessageWithHeader at `offset` of `buffer` (`size` from messageWithHeaderSize): a delivery written in place. */
export function writeMessageWithHeader(
  buffer: Buffer,
  offset: number,
  size: number,
  cmdType: MessageCmd,
  header: Uint8Array,
  body: Uint8Array | string,
): void {
  const w = new ProtoWriter(buffer, offset).bytesField(1, header);
  if (typeof body === 'string') w.stringField(2, body);
  else w.bytesField(2, body);
  finished(w, offset + size, cmdType === CmdType.BYTES_MESSAGE ? 'BytesMessage' : 'StringMessage');
}

/**
 * The bytes of encodeMessageWithHeader that come before a bytes body (the header field, then the
 * body's tag and length): the body itself follows them on the wire as it is (frame-writer.ts tail).
 */
export function messagePrefixSize(header: Uint8Array, bodyLength: number): number {
  return delimitedSize(1, header.length) + delimitedSize(2, bodyLength) - bodyLength;
}

/** writeMessageWithHeader up to the body's bytes (`size` from messagePrefixSize): the caller sends `bodyLength` bytes after it. */
export function writeMessagePrefix(
  buffer: Buffer,
  offset: number,
  size: number,
  cmdType: MessageCmd,
  header: Uint8Array,
  bodyLength: number,
): void {
  const w = new ProtoWriter(buffer, offset).bytesField(1, header).delimited(2, bodyLength);
  finished(w, offset + size, cmdType === CmdType.BYTES_MESSAGE ? 'BytesMessage' : 'StringMessage');
}

const MESSAGE_REQUIRED = ['header', 'body'] as const;

export function decodeMessage(cmdType: MessageCmd, body: Uint8Array): KiteMessage {
  try {
    return readMessage(cmdType, new ProtoReader(asBuffer(body)));
  } catch (error) {
    throw undecodable(cmdType === CmdType.BYTES_MESSAGE ? 'BytesMessage' : 'StringMessage', error);
  }
}

function readMessage(cmdType: MessageCmd, r: ProtoReader): KiteMessage {
  let header: MessageHeader | undefined;
  let bytes: Buffer | undefined;
  let text: string | undefined;
  let seen = 0;
  while (!r.done) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        r.expect(tag, WireType.BYTES);
        header = readHeader(r.embedded());
        seen |= 1;
        break;
      case 2:
        r.expect(tag, WireType.BYTES);
        if (cmdType === CmdType.BYTES_MESSAGE) bytes = r.bytesKept();
        else text = r.string();
        seen |= 2;
        break;
      default:
        r.skip(tag & 7);
    }
  }
  assertRequired(seen, MESSAGE_REQUIRED, cmdType === CmdType.BYTES_MESSAGE ? 'BytesMessage' : 'StringMessage');
  if (cmdType === CmdType.BYTES_MESSAGE) return { cmdType, header: header!, body: bytes! };
  return { cmdType, header: header!, body: text! };
}
