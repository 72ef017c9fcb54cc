// doc/architecture.md §5 "validate": every packet after CONN_META comes from an authenticated connection.
import { ProtocolError } from '../protocol/errors';
import type { ClientPacket } from './decode';
import type { SessionPort } from './session-port';

export function validatePacket(session: SessionPort, packet: ClientPacket): void {
  if (packet.kind !== 'connMeta' && !session.authenticated) {
    throw new ProtocolError(`${packet.kind} before CONN_META`, 'order');
  }
}
