// message BytesMessage { required Header header = 1; required bytes body = 2; }   cmdType 0x11
// message StringMessage { required Header header = 1; required string body = 2; } cmdType 0x12
// Both travel as a publish (client→server) and as a delivery (server→client).
import { CmdType } from '../commands';
import { protocol } from '../pb';
import { decodeOrThrow } from './decode';
import { type MessageHeader, headerSize, toMessageHeader, writeHeaderFields } from './header';
import { delimitedSize, finished, utf8Size, writerOf } from './proto-writer';

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

export function decodeMessage(cmdType: MessageCmd, body: Uint8Array): KiteMessage {
  if (cmdType === CmdType.BYTES_MESSAGE) {
    return decodeOrThrow('BytesMessage', () => {
      const m = protocol.BytesMessage.decode(body);
      // Copy out of the socket chunk so the stored body does not pin it.
      return { cmdType, header: toMessageHeader(m.header), body: Buffer.from(m.body) };
    });
  }
  return decodeOrThrow('StringMessage', () => {
    const m = protocol.StringMessage.decode(body);
    return { cmdType, header: toMessageHeader(m.header), body: m.body };
  });
}
