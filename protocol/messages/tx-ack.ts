// message TxACKPacket { required Header header = 1; required int32 status = 2 [default = 0];
//   required string feedback = 3; }  status: 0 unknown, 1 commit, 2 rollback (design §2, §7).
import { protocol } from '../pb';
import { decodeOrThrow } from './decode';
import { type MessageHeader, headerSize, toMessageHeader, writeHeaderFields } from './header';
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
  const size = delimitedSize(1, headerBytes) + varintFieldSize(2, message.status) + stringFieldSize(3, message.feedback);
  const w = writeHeaderFields(writerOf(size).delimited(1, headerBytes), message.header);
  return finished(w.varintField(2, message.status).stringField(3, message.feedback), size, 'TxACKPacket');
}

export function decodeTxAck(body: Uint8Array): TxAck {
  return decodeOrThrow('TxACKPacket', () => {
    const m = protocol.TxACKPacket.decode(body);
    return { header: toMessageHeader(m.header), status: m.status, feedback: m.feedback };
  });
}
