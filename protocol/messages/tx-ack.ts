// message TxACKPacket { required Header header = 1; required int32 status = 2 [default = 0];
//   required string feedback = 3; }  status: 0 unknown, 1 commit, 2 rollback (doc/architecture.md §2, §7).
import { undecodable } from './decode';
import { ProtoReader, WireType, asBuffer, assertRequired } from './proto-reader';
import { type MessageHeader, headerSize, readHeader, writeHeaderFields } from './header';
import { delimitedSize, finished, stringFieldSize, varintFieldSize, writerOf } from './proto-writer';

export const TxStatus = { UNKNOWN: 0, COMMIT: 1, ROLLBACK: 2 } as const;
export type TxStatusCode = (typeof TxStatus)[keyof typeof TxStatus];

export interface TxAck {
  header: MessageHeader;
  status: number;
  feedback: string;
}

export function encodeTxAck(message: TxAck): Uint8Array {
  const headerBytes = headerSize(message.header);
  const size =
    delimitedSize(1, headerBytes) + varintFieldSize(2, message.status) + stringFieldSize(3, message.feedback);
  const w = writeHeaderFields(writerOf(size).delimited(1, headerBytes), message.header);
  return finished(w.varintField(2, message.status).stringField(3, message.feedback), size, 'TxACKPacket');
}

const TX_ACK_REQUIRED = ['header', 'status', 'feedback'] as const;

export function decodeTxAck(body: Uint8Array): TxAck {
  try {
    const r = new ProtoReader(asBuffer(body));
    let header: MessageHeader | undefined;
    let status = 0;
    let feedback = '';
    let seen = 0;
    while (!r.done) {
      const tag = r.uint32();
      switch (tag >>> 3) {
        case 1:
          r.expect(tag, WireType.BYTES);
          header = readHeader(r.embedded());
          seen |= 1;
          break;
        case 2:
          r.expect(tag, WireType.VARINT);
          status = r.int32();
          seen |= 2;
          break;
        case 3:
          r.expect(tag, WireType.BYTES);
          feedback = r.string();
          seen |= 4;
          break;
        default:
          r.skip(tag & 7);
      }
    }
    assertRequired(seen, TX_ACK_REQUIRED, 'TxACKPacket');
    return { header: header!, status, feedback };
  } catch (error) {
    throw undecodable('TxACKPacket', error);
  }
}
