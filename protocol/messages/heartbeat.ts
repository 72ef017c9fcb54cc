// message HeartBeat { required int64 version = 1; }  version = unix seconds of the sender.
import { undecodable } from './decode';
import { ProtoReader, WireType, asBuffer, assertRequired } from './proto-reader';
import { finished, varintFieldSize, writerOf } from './proto-writer';

export interface HeartBeat {
  version: number;
}

export function encodeHeartBeat(message: HeartBeat): Uint8Array {
  const size = varintFieldSize(1, message.version);
  return finished(writerOf(size).varintField(1, message.version), size, 'HeartBeat');
}

const HEARTBEAT_REQUIRED = ['version'] as const;

export function decodeHeartBeat(body: Uint8Array): HeartBeat {
  try {
    const r = new ProtoReader(asBuffer(body));
    let version = 0;
    let seen = 0;
    while (!r.done) {
      const tag = r.uint32();
      switch (tag >>> 3) {
        case 1:
          r.expect(tag, WireType.VARINT);
          version = r.int64();
          seen |= 1;
          break;
        default:
          r.skip(tag & 7);
      }
    }
    assertRequired(seen, HEARTBEAT_REQUIRED, 'HeartBeat');
    return { version };
  } catch (error) {
    throw undecodable('HeartBeat', error);
  }
}
