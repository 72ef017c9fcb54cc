// message ConnMeta { required string groupId = 1; required string secretKey = 2;
//   optional int32 warmingupSec = 3 [default = 0]; }  First packet of every connection.
import { undecodable } from './decode';
import { ProtoReader, WireType, asBuffer, assertRequired } from './proto-reader';
import { finished, stringFieldSize, varintFieldSize, writerOf } from './proto-writer';

export interface ConnMeta {
  groupId: string;
  secretKey: string;
  warmingupSec: number;
}

export function encodeConnMeta(message: ConnMeta): Uint8Array {
  const { groupId, secretKey, warmingupSec } = message;
  const size =
    stringFieldSize(1, groupId) +
    stringFieldSize(2, secretKey) +
    (warmingupSec != null ? varintFieldSize(3, warmingupSec) : 0);
  const w = writerOf(size).stringField(1, groupId).stringField(2, secretKey);
  if (warmingupSec != null) w.varintField(3, warmingupSec);
  return finished(w, size, 'ConnMeta');
}

const CONN_META_REQUIRED = ['groupId', 'secretKey'] as const;

export function decodeConnMeta(body: Uint8Array): ConnMeta {
  try {
    const r = new ProtoReader(asBuffer(body));
    const meta: ConnMeta = { groupId: '', secretKey: '', warmingupSec: 0 };
    let seen = 0;
    while (!r.done) {
      const tag = r.uint32();
      switch (tag >>> 3) {
        case 1:
          r.expect(tag, WireType.BYTES);
          meta.groupId = r.string();
          seen |= 1;
          break;
        case 2:
          r.expect(tag, WireType.BYTES);
          meta.secretKey = r.string();
          seen |= 2;
          break;
        case 3:
          r.expect(tag, WireType.VARINT);
          meta.warmingupSec = r.int32();
          break;
        default:
          r.skip(tag & 7);
      }
    }
    assertRequired(seen, CONN_META_REQUIRED, 'ConnMeta');
    return meta;
  } catch (error) {
    throw undecodable('ConnMeta', error);
  }
}
