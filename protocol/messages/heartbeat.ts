// message HeartBeat { required int64 version = 1; }  version = unix seconds of the sender.
import { protocol } from '../pb';
import { decodeOrThrow } from './decode';

export interface HeartBeat {
  version: number;
}

export function encodeHeartBeat(message: HeartBeat): Uint8Array {
  return protocol.HeartBeat.encode(message).finish();
}

export function decodeHeartBeat(body: Uint8Array): HeartBeat {
  return decodeOrThrow('HeartBeat', () => ({ version: Number(protocol.HeartBeat.decode(body).version) }));
}
