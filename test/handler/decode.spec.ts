// doc/architecture.md §5 "decode", doc/protocol.md: a client frame becomes a typed packet; a
// command only brokers send, or a body that does not decode, is a protocol violation (the
// session closes that connection and nothing else).
import assert from 'node:assert/strict';
import { decodeClientFrame } from '../../handler/decode';
import { CmdType } from '../../protocol/commands';
import { ProtocolError } from '../../protocol/errors';
import { encodeConnMeta } from '../../protocol/messages/conn-meta';
import { encodeDeliverAck } from '../../protocol/messages/deliver-ack';
import { encodeMessage } from '../../protocol/messages/message';
import { encodeStoreAck } from '../../protocol/messages/store-ack';
import { aHeader } from '../support/messages';

const frame = (cmdType: number, body: Uint8Array, opaque = 9) => ({ opaque, cmdType, body: Buffer.from(body) });

describe('decode stage - client frames to packets', () => {
  it('decodes a CONN_META into the group, key and warm-up the client sent', () => {
    const packet = decodeClientFrame(
      frame(CmdType.CONN_META, encodeConnMeta({ groupId: 's-mc', secretKey: 'k', warmingupSec: 30 })),
    );
    assert.deepEqual(packet, {
      kind: 'connMeta',
      opaque: 9,
      meta: { groupId: 's-mc', secretKey: 'k', warmingupSec: 30 },
    });
  });

  it('decodes a publish and keeps the received body bytes for delivery as they are', () => {
    const header = aHeader();
    const body = encodeMessage({ cmdType: CmdType.STRING_MESSAGE, header, body: 'hello' });
    const packet = decodeClientFrame(frame(CmdType.STRING_MESSAGE, body));
    assert.equal(packet.kind, 'publish');
    if (packet.kind !== 'publish') return;
    assert.deepEqual([packet.message.header.messageId, packet.message.body], [header.messageId, 'hello']);
    assert.deepEqual(Buffer.from(packet.raw), Buffer.from(body));
  });

  it('decodes a DeliverAck with its opaque, which is what matches it to the delivery', () => {
    const ack = {
      messageId: 'a'.repeat(32),
      topic: 'trade',
      messageType: 'pay-succ',
      groupId: 'p-trade',
      status: false,
      feedback: 'busy',
    };
    const packet = decodeClientFrame(frame(CmdType.DELIVER_ACK, encodeDeliverAck(ack), 41));
    assert.equal(packet.kind, 'deliverAck');
    if (packet.kind !== 'deliverAck') return;
    assert.equal(packet.opaque, 41);
    // the id is decoded only when asked for (a late ack's log line)
    assert.deepEqual([packet.ack.status, packet.ack.feedback, packet.ack.messageId], [false, 'busy', ack.messageId]);
  });

  it('decodes a DeliverAck without feedback as status alone', () => {
    const ack = { messageId: 'b'.repeat(32), topic: 't', messageType: 'm', groupId: 'g', status: true };
    const packet = decodeClientFrame(frame(CmdType.DELIVER_ACK, encodeDeliverAck(ack), 7));
    if (packet.kind !== 'deliverAck') return assert.fail(packet.kind);
    assert.deepEqual([packet.ack.status, packet.ack.feedback, packet.ack.messageId], [true, undefined, ack.messageId]);
  });

  it('refuses a DeliverAck missing a required field it does not decode (rule decode)', () => {
    // DeliverAck{messageId: "x", status: true}: topic, messageType and groupId are missing
    const body = Buffer.from('0a01782801', 'hex');
    assert.throws(
      () => decodeClientFrame(frame(CmdType.DELIVER_ACK, body)),
      (e: unknown) => e instanceof ProtocolError && e.rule === 'decode',
    );
  });

  it('refuses a command only a broker sends as a direction violation', () => {
    const storeAck = encodeStoreAck({ messageId: 'a'.repeat(32), status: true, feedback: '' });
    assert.throws(
      () => decodeClientFrame(frame(CmdType.MESSAGE_STORE_ACK, storeAck)),
      (e: unknown) => e instanceof ProtocolError && e.rule === 'direction',
    );
    assert.throws(
      () => decodeClientFrame(frame(CmdType.CONN_AUTH, Buffer.alloc(0))),
      (e: unknown) => e instanceof ProtocolError && e.rule === 'direction',
    );
  });

  it('refuses a body that does not decode with a protocol error, not a crash', () => {
    assert.throws(() => decodeClientFrame(frame(CmdType.CONN_META, Buffer.from([0xff, 0xff, 0xff]))), ProtocolError);
  });
});
