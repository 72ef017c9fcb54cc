// message MessageStoreAck { required string messageId = 1; required bool status = 2 [default = true];
//   required string feedback = 3; }  The broker's reply to a publish.
import { protocol } from '../pb';
import { decodeOrThrow } from './decode';

export interface MessageStoreAck {
  messageId: string;
  status: boolean;
  feedback: string;
}

export function encodeStoreAck(message: MessageStoreAck): Uint8Array {
  return protocol.MessageStoreAck.encode(message).finish();
}

export function decodeStoreAck(body: Uint8Array): MessageStoreAck {
  return decodeOrThrow('MessageStoreAck', () => {
    const m = protocol.MessageStoreAck.decode(body);
    return { messageId: m.messageId, status: m.status, feedback: m.feedback };
  });
}
