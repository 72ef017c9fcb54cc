// message ConnMeta { required string groupId = 1; required string secretKey = 2;
//   optional int32 warmingupSec = 3 [default = 0]; }  First packet of every connection.
import { protocol } from '../pb';
import { decodeOrThrow } from './decode';

export interface ConnMeta {
  groupId: string;
  secretKey: string;
  warmingupSec: number;
}

export function encodeConnMeta(message: ConnMeta): Uint8Array {
  return protocol.ConnMeta.encode(message).finish();
}

export function decodeConnMeta(body: Uint8Array): ConnMeta {
  return decodeOrThrow('ConnMeta', () => {
    const m = protocol.ConnMeta.decode(body);
    return { groupId: m.groupId, secretKey: m.secretKey, warmingupSec: m.warmingupSec ?? 0 };
  });
}
