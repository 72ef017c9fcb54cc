// doc/architecture.md §4: header checks answer store-ack false with KiteQ's exact reasons.
import assert from 'node:assert/strict';
import { directBinding } from '../binding/binding';
import { CmdType } from '../protocol/commands';
import { encodeMessage } from '../protocol/messages/message';
import { decodeStoreAck, type MessageStoreAck } from '../protocol/messages/store-ack';
import { aHeader } from './support/messages';
import type { RawClient } from './support/raw-client';
import { withBroker } from './support/with-broker';
import type { MessageHeader } from '../protocol/messages/header';

describe('publish - header checks and their reasons', function () {
  this.timeout(20_000);
  const env = withBroker({ bindings: [directBinding('s-mc', 'trade', 'pay-succ')] });
  let raw: RawClient;
  let opaque = 100;

  before(async () => {
    raw = await env.raw();
    assert.equal((await raw.handshake('p-trade', 'k')).status, true);
  });

  async function publish(header: MessageHeader): Promise<MessageStoreAck> {
    const op = ++opaque;
    raw.sendPacket(op, CmdType.STRING_MESSAGE, encodeMessage({ cmdType: CmdType.STRING_MESSAGE, header, body: 'x' }));
    return decodeStoreAck((await raw.next((f) => f.opaque === op && f.cmdType === CmdType.MESSAGE_STORE_ACK)).body);
  }

  it('rejects a messageId that is not 32 hex characters', async () => {
    const ack = await publish(aHeader({ messageId: 'not-a-uuid' }));
    assert.deepEqual([ack.status, ack.feedback], [false, 'Invalid MessageId For UUID!']);
  });

  it('rejects an expiredTime in the past', async () => {
    const ack = await publish(aHeader({ expiredTime: Math.floor(Date.now() / 1000) - 60 }));
    assert.deepEqual([ack.status, ack.feedback], [false, 'Expired Message!']);
  });

  it('rejects a topic this broker does not serve', async () => {
    const ack = await publish(aHeader({ topic: 'elsewhere' }));
    assert.equal(ack.status, false);
    assert.match(ack.feedback, /Topic Not Served/);
  });

  it('normalises deliverLimit and expiredTime and stores the message', async () => {
    const header = aHeader({ deliverLimit: 0, expiredTime: -1, createTime: 0 });
    const ack = await publish(header);
    assert.deepEqual([ack.status, ack.messageId], [true, header.messageId]);
    const stored = await env.broker.store.get(header.messageId);
    const now = Math.floor(Date.now() / 1000);
    assert.equal(stored?.header.deliverLimit, 100);
    assert.ok(Math.abs(stored!.header.expiredTime - (now + 7 * 24 * 3600)) <= 2, 'expiredTime = now + 7 days');
    assert.ok(Math.abs(stored!.header.createTime! - now) <= 2, 'createTime = now');
  });
});
