// message ConnAuthAck { required bool status = 1 [default = true]; required string feedback = 2; }
import { undecodable } from './decode';
import { ProtoReader, WireType, asBuffer, assertRequired } from './proto-reader';
import { finished, stringFieldSize, writerOf } from './proto-writer';

export interface ConnAuthAck {
  status: boolean;
  feedback: string;
}

export function encodeConnAuthAck(message: ConnAuthAck): Uint8Array {
  const size = 2 + stringFieldSize(2, message.feedback); // status: a tag byte and a value byte
  return finished(writerOf(size).boolField(1, message.status).stringField(2, message.feedback), size, 'ConnAuthAck');
}

const CONN_AUTH_ACK_REQUIRED = ['status', 'feedback'] as const;

export function decodeConnAuthAck(body: Uint8Array): ConnAuthAck {
  try {
    const r = new ProtoReader(asBuffer(body));
    const ack: ConnAuthAck = { status: true, feedback: '' };
    let seen = 0;
    while (!r.done) {
      const tag = r.uint32();
      switch (tag >>> 3) {
        case 1:
          r.expect(tag, WireType.VARINT);
          ack.status = r.bool();
          seen |= 1;
          break;
        case 2:
          r.expect(tag, WireType.BYTES);
          ack.feedback = r.string();
          seen |= 2;
          break;
        default:
          r.skip(tag & 7);
      }
    }
    assertRequired(seen, CONN_AUTH_ACK_REQUIRED, 'ConnAuthAck');
    return ack;
  } catch (error) {
    throw undecodable('ConnAuthAck', error);
  }
}
