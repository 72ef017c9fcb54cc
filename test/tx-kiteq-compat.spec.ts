// doc/architecture.md §2, §7 and KiteQ's Go client (kiteq-client-go accept.go / kite_io.go, see
// doc/transactions.md): a KiteQ producer publishes with commit=false, sends TX_ACK{header,
// status 1 commit | 2 rollback} with its own opaque, and answers the broker's check-back
// TX_ACK{full header, status 0, "Server Check"} with a TX_ACK carrying the server's opaque.
// Spoken here byte for byte on a raw socket, no kiteq-ts client logic on the producer side.
import assert from 'node:assert/strict';
import { directBinding } from '../binding/binding';
import type { Message } from '../client';
import { CmdType } from '../protocol/commands';
import type { MessageHeader } from '../protocol/messages/header';
import { encodeMessage } from '../protocol/messages/message';
import { decodeStoreAck } from '../protocol/messages/store-ack';
import { decodeTxAck, encodeTxAck, TxStatus } from '../protocol/messages/tx-ack';
import { countdown, eventually } from './support/events';
import { withBroker } from './support/with-broker';
import { newMessageId } from './support/messages';
import type { RawClient } from './support/raw-client';

describe('tx messages - a KiteQ (Go) producer on the wire', function () {
  this.timeout(30_000);
  const env = withBroker({
    bindings: [directBinding('s-mc', 'trade', 'pay-succ')],
    config: { txCheckAgeSec: 1, txCheckIntervalSec: 1 },
  });
  let goProducer: RawClient;
  const received: Message[] = [];
  let onReceive: () => void = () => undefined;

  before(async () => {
    await env.startClient({
      groupId: 's-mc',
      bindings: [directBinding('s-mc', 'trade', 'pay-succ')],
      listener: (m) => (received.push(m), onReceive(), true),
    });
    goProducer = await env.raw();
    assert.equal((await goProducer.handshake('p-go', 'k')).status, true);
  });

  function preparedHeader(orderId: string): MessageHeader {
    const now = Math.floor(Date.now() / 1000);
    return {
      // KiteQ's Go client writes upper-case ids; the broker matches them case-insensitively.
      messageId: newMessageId().toUpperCase(),
      topic: 'trade',
      messageType: 'pay-succ',
      expiredTime: now + 3600,
      deliverLimit: 100,
      groupId: 'p-go',
      commit: false,
      fly: false,
      properties: [
        { key: 'orderId', value: orderId },
        { key: 'amount', value: '42.00' },
      ],
      createTime: now,
    };
  }

  async function publish(opaque: number, header: MessageHeader): Promise<void> {
    goProducer.sendPacket(
      opaque,
      CmdType.STRING_MESSAGE,
      encodeMessage({ cmdType: CmdType.STRING_MESSAGE, header, body: 'paid' }),
    );
    const ack = decodeStoreAck(
      (await goProducer.next((f) => f.cmdType === CmdType.MESSAGE_STORE_ACK && f.opaque === opaque)).body,
    );
    assert.equal(ack.status, true, ack.feedback);
  }

  it("a TX_ACK commit (status 1) with the producer's own opaque delivers the message", async () => {
    const header = preparedHeader('o-1');
    await publish(101, header);
    const arrived = countdown(1, 10_000, 'delivery');
    onReceive = () => arrived.tick();
    goProducer.sendPacket(102, CmdType.TX_ACK, encodeTxAck({ header, status: TxStatus.COMMIT, feedback: '' }));
    await arrived.done;
    assert.equal(received.at(-1)?.header.messageId, header.messageId.toLowerCase());
  });

  it('a TX_ACK rollback (status 2) deletes it', async () => {
    const header = preparedHeader('o-2');
    await publish(103, header);
    goProducer.sendPacket(
      104,
      CmdType.TX_ACK,
      encodeTxAck({ header, status: TxStatus.ROLLBACK, feedback: 'local tx failed' }),
    );
    await eventually(
      async () => (await env.broker.store.get(header.messageId.toLowerCase())) === undefined,
      5000,
      'rolled back',
    );
  });

  it('sends the check-back KiteQ expects (status 0, "Server Check", the full header with properties) and honours the answer on the server\'s opaque', async () => {
    const header = preparedHeader('o-3');
    await publish(105, header);
    const check = await goProducer.next((f) => f.cmdType === CmdType.TX_ACK, 10_000);
    const packet = decodeTxAck(check.body);
    assert.equal(packet.status, TxStatus.UNKNOWN);
    assert.equal(packet.feedback, 'Server Check');
    assert.deepEqual(
      packet.header,
      { ...header, messageId: header.messageId.toLowerCase() },
      'the stored header, properties included',
    );
    const arrived = countdown(1, 10_000, 'delivery');
    onReceive = () => arrived.tick();
    // kiteq-client-go AcceptHandler: tx.ConvertTxAckPacket(txPacket) then NewRespPacket(opaque, ...)
    goProducer.sendPacket(
      check.opaque,
      CmdType.TX_ACK,
      encodeTxAck({ header: packet.header, status: TxStatus.COMMIT, feedback: '' }),
    );
    await arrived.done;
    assert.deepEqual(received.at(-1)?.header.properties, header.properties);
    assert.equal(env.broker.txChecks.isChecking(packet.header.messageId), false, 'the check is answered');
  });
});
