// doc/architecture.md §5 "accept": routes an authenticated packet. DeliverAcks complete pending deliveries
// (matched by connection and opaque, never by DeliverAck.groupId: doc/architecture.md §2); heartbeats are
// echoed; publishes pass the broker-wide rate limiter (over it → store-ack false "overflow").
import { Reasons } from '../protocol/reasons';
import type { TxAck } from '../protocol/messages/tx-ack';
import type { ClientPacket } from './decode';
import type { PublishEvent } from './events';
import type { SessionPort } from './session-port';

export interface AcceptingSession extends SessionPort {
  echoHeartbeat(opaque: number, raw: Buffer): void;
  /** settles the pending delivery or check-back with this opaque; false when none is pending */
  settlePending(opaque: number, status: boolean, feedback?: string): boolean;
  /** settles the check-back with this opaque if it asked about messageId */
  settleCheckBack(opaque: number, messageId: string): boolean;
}

export interface AcceptDeps {
  /** false → refuse with "overflow" (publish rate limit, undelivered-bytes bound); true → `proceed` runs, now or once deliveries drain (false: refuse it after all) */
  admitPublish: (bodyBytes: number, proceed: (admitted: boolean) => void) => boolean;
  toCheckMessage: (event: PublishEvent) => void;
  /** `opaque`: the TX_ACK's (a refusal is answered on it) */
  toTxAck: (ack: TxAck, session: SessionPort, opaque: number) => void;
  onLateAck: (session: SessionPort, messageId: string) => void;
}

export function createAcceptStage(deps: AcceptDeps) {
  const { admitPublish, toCheckMessage, toTxAck, onLateAck } = deps;
  return function accept(session: AcceptingSession, packet: ClientPacket): void {
    switch (packet.kind) {
      case 'heartbeat':
        session.echoHeartbeat(packet.opaque, packet.raw);
        return;
      case 'deliverAck':
        if (!session.settlePending(packet.opaque, packet.ack.status, packet.ack.feedback))
          onLateAck(session, packet.ack.messageId);
        return;
      case 'txAck':
        // A check-back answer carries the server's opaque (doc/architecture.md §2); a decision is a new request.
        session.settleCheckBack(packet.opaque, packet.ack.header.messageId);
        toTxAck(packet.ack, session, packet.opaque);
        return;
      case 'publish': {
        const { message } = packet;
        const receivedAtMs = performance.now();
        const refuse = (): void =>
          session.sendStoreAck(packet.opaque, message.header.messageId, false, Reasons.overflow.text);
        // it may wait for deliveries to drain; refused if the broker starts stopping meanwhile
        const proceed = (admitted: boolean): void =>
          admitted
            ? toCheckMessage({ session, opaque: packet.opaque, message, raw: packet.raw, receivedAtMs })
            : refuse();
        if (!admitPublish(message.body.length, proceed)) refuse();
        return;
      }
      case 'connMeta':
        session.close('CONN_META sent twice on one connection');
        return;
    }
  };
}
