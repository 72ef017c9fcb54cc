// doc/architecture.md §5 "validate": everything after CONN_META comes from an authenticated
// connection; anything else first is an order violation (doc/security.md: the connection closes).
import assert from 'node:assert/strict';
import type { ClientPacket } from '../../handler/decode';
import { validatePacket } from '../../handler/validate';
import { ProtocolError } from '../../protocol/errors';
import { TxStatus } from '../../protocol/messages/tx-ack';
import { aHeader } from '../support/messages';
import { RecordingSession } from '../support/recording-session';

const packets: ClientPacket[] = [
  { kind: 'heartbeat', opaque: 1, heartbeat: { version: 1 }, raw: Buffer.alloc(0) },
  { kind: 'publish', opaque: 2, message: { cmdType: 0x12, header: aHeader(), body: 'x' }, raw: Buffer.alloc(0) },
  {
    kind: 'deliverAck',
    opaque: 3,
    ack: { messageId: 'a'.repeat(32), status: true },
  },
  { kind: 'txAck', opaque: 4, ack: { header: aHeader(), status: TxStatus.COMMIT, feedback: '' } },
];

describe('validate stage - CONN_META first', () => {
  it('refuses every other packet before the connection authenticated', () => {
    const session = new RecordingSession();
    for (const packet of packets) {
      assert.throws(
        () => validatePacket(session, packet),
        (e: unknown) =>
          e instanceof ProtocolError && e.rule === 'order' && e.message === `${packet.kind} before CONN_META`,
      );
    }
  });

  it('lets CONN_META through on a new connection, and everything once authenticated', () => {
    validatePacket(new RecordingSession(), {
      kind: 'connMeta',
      opaque: 1,
      meta: { groupId: 'g', secretKey: 'k', warmingupSec: 0 },
    });
    const session = new RecordingSession({ groupId: 'g', authenticated: true });
    for (const packet of packets) validatePacket(session, packet);
  });
});
