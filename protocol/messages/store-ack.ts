// message MessageStoreAck { required string messageId = 1; required bool status = 2 [default = true];
//   required string feedback = 3; }  The broker's reply to a publish.
import { protocol } from '../pb';
import { decodeOrThrow } from './decode';
import { finished, stringFieldSize, writerOf } from './proto-writer';

export interface MessageStoreAck {
  messageId: string;
  status: boolean;
  feedback: string;
}

export function encodeStoreAck(message: MessageStoreAck): Uint8Array {
  // hand-written (proto-writer.ts): one per publish
  const size = stringFieldSize(1, message.messageId) + 2 + stringFieldSize(3, message.feedback);
  const w = writerOf(size).stringField(1, message.messageId).boolField(2, message.status).stringField(3, message.feedback);
  return finished(w, size, 'MessageStoreAck');
}

export function decodeStoreAck(body: Uint8Array): MessageStoreAck {
  return decodeOrThrow('MessageStoreAck', () => {
    const m = protocol.MessageStoreAck.decode(body);
    return { messageId: m.messageId, status: m.status, feedback: m.feedback };
  });
}
