// message DeliverAck { required string messageId = 1; required string topic = 2; required string messageType = 3;
//   required string groupId = 4; required bool status = 5 [default = true]; optional string feedback = 6; }
// KiteQ's Go client puts the publisher's group in groupId: match acks by connection and opaque (design §2).
import { protocol } from '../pb';
import { decodeOrThrow } from './decode';

export interface DeliverAck {
  messageId: string;
  topic: string;
  messageType: string;
  groupId: string;
  status: boolean;
  feedback?: string;
}

export function encodeDeliverAck(message: DeliverAck): Uint8Array {
  return protocol.DeliverAck.encode(message).finish();
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
