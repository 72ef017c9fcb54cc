// doc/architecture.md §5 "accept": a DeliverAck completes the delivery pending under its opaque
// on that connection (never matched by its groupId, doc/protocol.md), heartbeats are echoed, and
// a publish over the broker-wide limit is answered "overflow" (retriable) instead of stored.
import assert from 'node:assert/strict';
import { createAcceptStage } from '../../handler/accept';
import type { ClientPacket } from '../../handler/decode';
import type { PublishEvent } from '../../handler/events';
import { decodeDeliverAckReply, encodeDeliverAck } from '../../protocol/messages/deliver-ack';
import { Reasons } from '../../protocol/reasons';
import { TxStatus, type TxAck } from '../../protocol/messages/tx-ack';
import { aHeader } from '../support/messages';
import { RecordingSession } from '../support/recording-session';

describe('accept stage - routing an authenticated packet', () => {
  let admit: boolean;
  let checked: PublishEvent[];
  let txAcks: { ack: TxAck; opaque: number }[];
  let late: string[];
  let session: RecordingSession;
  let accept: ReturnType<typeof createAcceptStage>;

  beforeEach(() => {
    admit = true;
    checked = [];
    txAcks = [];
    late = [];
    session = new RecordingSession({ groupId: 's-mc', authenticated: true });
    accept = createAcceptStage({
      admitPublish: (_bytes, proceed) => (admit && proceed(true), admit),
      toCheckMessage: (e) => checked.push(e),
      toTxAck: (ack, _s, opaque) => txAcks.push({ ack, opaque }),
      onLateAck: (_s, id) => late.push(id),
    });
  });

  const deliverAck = (opaque: number, status: boolean, groupId = 'p-trade'): ClientPacket => ({
    kind: 'deliverAck',
    opaque,
    // as the broker decodes it (handler/decode.ts): groupId is on the wire, and never read
    ack: decodeDeliverAckReply(
      encodeDeliverAck({
        messageId: 'a'.repeat(32),
        topic: 'trade',
        messageType: 'pay-succ',
        groupId,
        status,
        feedback: 'f',
      }),
    ),
  });
  const publish = (): ClientPacket => ({
    kind: 'publish',
    opaque: 5,
    message: { cmdType: 0x12, header: aHeader(), body: 'hello' },
    raw: Buffer.from('raw'),
  });

  it("settles the delivery pending under the ack's opaque, whatever group the ack names", () => {
    session.pending.set(11, {});
    accept(session, deliverAck(11, false, 'some-other-group'));
    assert.deepEqual(session.pending.get(11), { status: false, feedback: 'f' });
    assert.deepEqual(late, []);
  });

  it('reports an ack with no delivery pending under its opaque as late, settling nothing', () => {
    session.pending.set(11, {});
    accept(session, deliverAck(12, true));
    assert.deepEqual(session.pending.get(11), {});
    assert.deepEqual(late, ['a'.repeat(32)]);
  });

  it('echoes a heartbeat on its opaque', () => {
    accept(session, { kind: 'heartbeat', opaque: 21, heartbeat: { version: 1 }, raw: Buffer.alloc(2) });
    assert.deepEqual(session.heartbeats, [21]);
  });

  it('passes an admitted publish on to check-message', () => {
    const packet = publish();
    accept(session, packet);
    assert.equal(checked.length, 1);
    assert.deepEqual([checked[0].session, checked[0].opaque, checked[0].raw], [session, 5, Buffer.from('raw')]);
    assert.deepEqual(session.storeAcks, []);
  });

  it('answers a publish over the limit with store-ack false "overflow", a retriable reason', () => {
    admit = false;
    const packet = publish();
    accept(session, packet);
    assert.deepEqual(checked, []);
    assert.deepEqual(session.storeAcks, [
      {
        opaque: 5,
        messageId: packet.kind === 'publish' ? packet.message.header.messageId : '',
        status: false,
        feedback: 'overflow',
      },
    ]);
    assert.equal(Reasons.overflow.retriable, true);
  });

  it('settles a check-back answered by a TX_ACK and hands the decision on with its opaque', () => {
    const ack = { header: aHeader({ commit: false }), status: TxStatus.COMMIT, feedback: '' };
    accept(session, { kind: 'txAck', opaque: 31, ack });
    assert.deepEqual(session.checkBacksSettled, [{ opaque: 31, messageId: ack.header.messageId }]);
    assert.deepEqual(txAcks, [{ ack, opaque: 31 }]);
  });

  it('closes a connection that sends CONN_META again', () => {
    accept(session, { kind: 'connMeta', opaque: 1, meta: { groupId: 's-mc', secretKey: 'k', warmingupSec: 0 } });
    assert.equal(session.closed, true);
  });
});
