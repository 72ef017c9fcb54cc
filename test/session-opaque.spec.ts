// doc/architecture.md §2, §12: replies are matched per connection and by kind. A producer's TX_ACK decision
// carries an opaque it chose; when it equals the opaque of a delivery pending on the same
// connection, it must not count as that delivery's ack (a lost message for that group).
import assert from 'node:assert/strict';
import { directBinding } from '../binding/binding';
import { buildStringMessage } from '../client';
import { CmdType } from '../protocol/commands';
import { decodeMessage } from '../protocol/messages/message';
import { encodeTxAck, TxStatus } from '../protocol/messages/tx-ack';
import { aHeader } from './support/messages';
import { withBroker } from './support/with-broker';

describe('session - replies are matched by connection, opaque and kind', function () {
  this.timeout(20_000);
  const env = withBroker({
    bindings: [directBinding('s-mc', 'trade', 'pay-succ')],
    config: { deliveryTimeoutMs: 800 },
  });

  it("does not take a TX_ACK with a delivery's opaque as that delivery's ack", async () => {
    const raw = await env.raw();
    assert.equal((await raw.handshake('s-mc', 'k')).status, true);
    const producer = await env.startClient({ groupId: 'p-trade', publishTopics: ['trade'] });
    const { messageId } = await producer.send(
      buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: 'x' }),
    );

    const first = await raw.next((f) => f.cmdType === CmdType.STRING_MESSAGE);
    assert.equal(decodeMessage(CmdType.STRING_MESSAGE, first.body).header.messageId, messageId);
    // The client's own tx decision about another message happens to use the same opaque.
    raw.sendPacket(
      first.opaque,
      CmdType.TX_ACK,
      encodeTxAck({ header: aHeader({ commit: false }), status: TxStatus.COMMIT, feedback: '' }),
    );

    // Unacked, the delivery times out and comes again.
    const again = await raw.next((f) => f.cmdType === CmdType.STRING_MESSAGE, 5000);
    assert.equal(decodeMessage(CmdType.STRING_MESSAGE, again.body).header.messageId, messageId);
  });
});
