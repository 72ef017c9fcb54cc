// message MessageStoreAck { required string messageId = 1; required bool status = 2 [default = true];
//   required string feedback = 3; }  The broker's reply to a publish.
import { undecodable } from './decode';
import { ProtoReader, WireType, asBuffer, assertRequired } from './proto-reader';
import { finished, ProtoWriter, stringFieldSize } from './proto-writer';

export interface MessageStoreAck {
  messageId: string;
  status: boolean;
  feedback: string;
}

export function encodeStoreAck(message: MessageStoreAck): Uint8Array {
  const size = storeAckSize(message.messageId, message.feedback);
  const buffer = Buffer.allocUnsafe(size);
  writeStoreAck(buffer, 0, size, message.messageId, message.status, message.feedback);
  return buffer;
}

/** The encoded size of a MessageStoreAck. */
export function storeAckSize(messageId: string, feedback: string): number {
  return stringFieldSize(1, messageId) + 2 + stringFieldSize(3, feedback);
}

/**
 * Encodes a MessageStoreAck of `size` (storeAckSize) bytes at `offset` of `buffer`: one per publish,
 * written straight into the connection's outgoing buffer (FrameWriter.begin).
 */
export function writeStoreAck(
  buffer: Buffer,
  offset: number,
  size: number,
  messageId: string,
  status: boolean,
  feedback: string,
): void {
  // hand-written (proto-writer.ts)
  const w = new ProtoWriter(buffer, offset).stringField(1, messageId).boolField(2, status).stringField(3, feedback);
  finished(w, offset + size, 'MessageStoreAck');
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
        case 1:
          r.expect(tag, WireType.BYTES);
          ack.messageId = r.string();
          seen |= 1;
          break;
        case 2:
          r.expect(tag, WireType.VARINT);
          ack.status = r.bool();
          seen |= 2;
          break;
        case 3:
          r.expect(tag, WireType.BYTES);
          ack.feedback = r.string();
          seen |= 4;
          break;
        default:
          r.skip(tag & 7);
      }
    }
    assertRequired(seen, STORE_ACK_REQUIRED, 'MessageStoreAck');
    return ack;
  } catch (error) {
    throw undecodable('MessageStoreAck', error);
  }
}
