// message DeliverAck { required string messageId = 1; required string topic = 2; required string messageType = 3;
//   required string groupId = 4; required bool status = 5 [default = true]; optional string feedback = 6; }
// KiteQ's Go client puts the publisher's group in groupId: match acks by connection and opaque (doc/architecture.md
// §2).
import { undecodable } from './decode';
import { ProtoReader, WireType, asBuffer, assertRequired } from './proto-reader';
import { finished, ProtoWriter, stringFieldSize } from './proto-writer';

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
  const size = deliverAckSize(message);
  const buffer = Buffer.allocUnsafe(size);
  writeDeliverAck(buffer, 0, size, message);
  return buffer;
}

/** The encoded size of a DeliverAck (for writeDeliverAck). */
export function deliverAckSize(ack: DeliverAck): number {
  return (
    stringFieldSize(1, ack.messageId) +
    stringFieldSize(2, ack.topic) +
    stringFieldSize(3, ack.messageType) +
    stringFieldSize(4, ack.groupId) +
    2 +
    (ack.feedback != null ? stringFieldSize(6, ack.feedback) : 0)
  );
}

/** encodeDeliverAck at `offset` of `buffer` (`size` from deliverAckSize): the client's ack written in place. */
export function writeDeliverAck(buffer: Buffer, offset: number, size: number, ack: DeliverAck): void {
  const w = new ProtoWriter(buffer, offset)
    .stringField(1, ack.messageId)
    .stringField(2, ack.topic)
    .stringField(3, ack.messageType)
    .stringField(4, ack.groupId)
    .boolField(5, ack.status);
  if (ack.feedback != null) w.stringField(6, ack.feedback);
  finished(w, offset + size, 'DeliverAck');
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

/**
 * What the broker acts on in a client's DeliverAck: status and feedback (it matches the ack by
 * connection and opaque, doc/architecture.md §2). The other fields are checked as decodeDeliverAck
 * checks them (present, of the right wire type) but not decoded: one per delivery, and the message
 * id is read only for a late ack's log line.
 */
export class DeliverAckReply {
  constructor(
    readonly status: boolean,
    readonly feedback: string | undefined,
    private readonly body: Uint8Array,
  ) {}

  get messageId(): string {
    return decodeDeliverAck(this.body).messageId;
  }
}

/** decodeDeliverAck's checks, without decoding the strings the broker does not use. */
export function decodeDeliverAckReply(body: Uint8Array): DeliverAckReply {
  try {
    const r = new ProtoReader(asBuffer(body));
    let status = true;
    let feedback = '';
    let seen = 0;
    while (!r.done) {
      const tag = r.uint32();
      const field = tag >>> 3;
      if (field >= 1 && field <= 4) {
        r.expect(tag, WireType.BYTES);
        r.skip(WireType.BYTES);
        seen |= 1 << (field - 1);
      } else if (field === 5) {
        r.expect(tag, WireType.VARINT);
        status = r.bool();
        seen |= 16;
      } else if (field === 6) {
        r.expect(tag, WireType.BYTES);
        feedback = r.string();
      } else r.skip(tag & 7);
    }
    assertRequired(seen, DELIVER_ACK_REQUIRED, 'DeliverAck');
    return new DeliverAckReply(status, feedback === '' ? undefined : feedback, body);
  } catch (error) {
    throw undecodable('DeliverAck', error);
  }
}
