// message MessageStoreAck { required string messageId = 1; required bool status = 2 [default = true];
//   required string feedback = 3; }  The broker's reply to a publish.
import { undecodable } from './decode';
import { ProtoReader, WireType, asBuffer, assertRequired } from './proto-reader';
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

const STORE_ACK_REQUIRED = ['messageId', 'status', 'feedback'] as const;

export function decodeStoreAck(body: Uint8Array): MessageStoreAck {
  try {
    const r = new ProtoReader(asBuffer(body));
    const ack: MessageStoreAck = { messageId: '', status: true, feedback: '' };
    let seen = 0;
    while (!r.done) {
      const tag = r.uint32();
      switch (tag >>> 3) {
        case 1: r.expect(tag, WireType.BYTES); ack.messageId = r.string(); seen |= 1; break;
        case 2: r.expect(tag, WireType.VARINT); ack.status = r.bool(); seen |= 2; break;
        case 3: r.expect(tag, WireType.BYTES); ack.feedback = r.string(); seen |= 4; break;
        default: r.skip(tag & 7);
      }
    }
    assertRequired(seen, STORE_ACK_REQUIRED, 'MessageStoreAck');
    return ack;
  } catch (error) {
    throw undecodable('MessageStoreAck', error);
  }
}
