// message ConnAuthAck { required bool status = 1 [default = true]; required string feedback = 2; }
import { protocol } from '../pb';
import { decodeOrThrow } from './decode';

export interface ConnAuthAck {
  status: boolean;
  feedback: string;
}

export function encodeConnAuthAck(message: ConnAuthAck): Uint8Array {
  return protocol.ConnAuthAck.encode(message).finish();
}

export function decodeConnAuthAck(body: Uint8Array): ConnAuthAck {
  return decodeOrThrow('ConnAuthAck', () => {
    const m = protocol.ConnAuthAck.decode(body);
    return { status: m.status, feedback: m.feedback };
  });
}
