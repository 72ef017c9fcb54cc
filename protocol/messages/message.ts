// message BytesMessage { required Header header = 1; required bytes body = 2; }   cmdType 0x11
// message StringMessage { required Header header = 1; required string body = 2; } cmdType 0x12
// Both travel as a publish (client→server) and as a delivery (server→client).
import { CmdType } from '../commands';
import { protocol } from '../pb';
import { decodeOrThrow } from './decode';
import { type MessageHeader, toMessageHeader } from './header';

export type MessageCmd = typeof CmdType.BYTES_MESSAGE | typeof CmdType.STRING_MESSAGE;

export type KiteMessage =
  | { cmdType: typeof CmdType.BYTES_MESSAGE; header: MessageHeader; body: Uint8Array }
  | { cmdType: typeof CmdType.STRING_MESSAGE; header: MessageHeader; body: string };

export function encodeMessage(message: KiteMessage): Uint8Array {
  return message.cmdType === CmdType.BYTES_MESSAGE
    ? protocol.BytesMessage.encode({ header: message.header, body: message.body }).finish()
    : protocol.StringMessage.encode({ header: message.header, body: message.body }).finish();
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
