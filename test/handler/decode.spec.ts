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
    assert.deepEqual(decodeClientFrame(frame(CmdType.DELIVER_ACK, encodeDeliverAck(ack), 41)), {
      kind: 'deliverAck',
      opaque: 41,
      ack,
    });
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
