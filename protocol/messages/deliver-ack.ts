// message DeliverAck { required string messageId = 1; required string topic = 2; required string messageType = 3;
//   required string groupId = 4; required bool status = 5 [default = true]; optional string feedback = 6; }
// KiteQ's Go client puts the publisher's group in groupId: match acks by connection and opaque (doc/architecture.md
// §2).
import { undecodable } from './decode';
import { ProtoReader, WireType, asBuffer, assertRequired } from './proto-reader';
import { finished, stringFieldSize, writerOf } from './proto-writer';

export interface DeliverAck {
  messageId: string;
  topic: string;
  messageType: string;
  groupId: string;
  status: boolean;
  feedback?: string;
}

export function encodeDeliverAck(message: DeliverAck): Uint8Array {
  // hand-written (proto-writer.ts): one per delivery
  const { messageId, topic, messageType, groupId, status, feedback } = message;
  const size =
    stringFieldSize(1, messageId) +
    stringFieldSize(2, topic) +
    stringFieldSize(3, messageType) +
    stringFieldSize(4, groupId) +
    2 +
    (feedback != null ? stringFieldSize(6, feedback) : 0);
  const w = writerOf(size)
    .stringField(1, messageId)
    .stringField(2, topic)
    .stringField(3, messageType)
    .stringField(4, groupId)
    .boolField(5, status);
  if (feedback != null) w.stringField(6, feedback);
  return finished(w, size, 'DeliverAck');
}

const DELIVER_ACK_REQUIRED = ['messageId', 'topic', 'messageType', 'groupId', 'status'] as const;

export function decodeDeliverAck(body: Uint8Array): DeliverAck {
  try {
    const r = new ProtoReader(asBuffer(body));
    const ack: DeliverAck = { messageId: '', topic: '', messageType: '', groupId: '', status: true };
    let feedback = '';
    let seen = 0;
    while (!r.done) {
      const tag = r.uint32();
      switch (tag >>> 3) {
        case 1:
          r.expect(tag, WireType.BYTES);
          ack.messageId = r.string();
          seen |= 1;
          break;
        case 2:
          r.expect(tag, WireType.BYTES);
          ack.topic = r.name();
          seen |= 2;
          break;
        case 3:
          r.expect(tag, WireType.BYTES);
          ack.messageType = r.name();
          seen |= 4;
          break;
        case 4:
          r.expect(tag, WireType.BYTES);
          ack.groupId = r.name();
          seen |= 8;
          break;
        case 5:
          r.expect(tag, WireType.VARINT);
          ack.status = r.bool();
          seen |= 16;
          break;
        case 6:
          r.expect(tag, WireType.BYTES);
          feedback = r.string();
          break;
        default:
          r.skip(tag & 7);
      }
    }
    assertRequired(seen, DELIVER_ACK_REQUIRED, 'DeliverAck');
    if (feedback !== '') ack.feedback = feedback;
    return ack;
  } catch (error) {
    throw undecodable('DeliverAck', error);
  }
}
