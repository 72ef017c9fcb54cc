// message DeliverAck { required string messageId = 1; required string topic = 2; required string messageType = 3;
//   required string groupId = 4; required bool status = 5 [default = true]; optional string feedback = 6; }
// KiteQ's Go client puts the publisher's group in groupId: match acks by connection and opaque (design §2).
import { protocol } from '../pb';
import { decodeOrThrow } from './decode';
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
  const size = stringFieldSize(1, messageId) + stringFieldSize(2, topic) + stringFieldSize(3, messageType) +
    stringFieldSize(4, groupId) + 2 + (feedback != null ? stringFieldSize(6, feedback) : 0);
  const w = writerOf(size).stringField(1, messageId).stringField(2, topic).stringField(3, messageType)
    .stringField(4, groupId).boolField(5, status);
  if (feedback != null) w.stringField(6, feedback);
  return finished(w, size, 'DeliverAck');
}

export function decodeDeliverAck(body: Uint8Array): DeliverAck {
  return decodeOrThrow('DeliverAck', () => {
    const m = protocol.DeliverAck.decode(body);
    const ack: DeliverAck = {
      messageId: m.messageId,
      topic: m.topic,
      messageType: m.messageType,
      groupId: m.groupId,
      status: m.status,
    };
    if (m.feedback != null && m.feedback !== '') ack.feedback = m.feedback;
    return ack;
  });
}
