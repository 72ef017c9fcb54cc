// Attack: an authenticated connection of another group commits or rolls back a prepared message it
// did not publish, by naming its id in a TX_ACK (a decision, or an answer on a check-back's
// opaque). Only the publishing group's connections decide; anyone else gets MessageStoreAck{false,
// "Not The Publishing Group…"} on its TX_ACK's opaque, the message stays prepared, and the broker
// logs a warn line (doc/transactions.md, doc/security.md).
import assert from 'node:assert/strict';
import { directBinding } from '../binding/binding';
import { CmdType } from '../protocol/commands';
import { decodeStoreAck } from '../protocol/messages/store-ack';
import { TxStatus } from '../protocol/messages/tx-ack';
import { Reasons } from '../protocol/reasons';
import type { BrokerConfig } from '../server/config';
import { captureLog } from './fixtures/fault/log-capture';
import { eventually } from './support/events';
import { withBroker } from './support/with-broker';
import { aHeader } from './support/messages';
import type { RawClient } from './support/raw-client';
import { ackDelivery, decide, isDeliveryOf, nextCheckBack, publish } from './support/raw-tx';

const groups: BrokerConfig['groups'] = [
  { groupId: 'p-trade', secretKey: 'p-key', publish: ['trade'] },
  { groupId: 'p-evil', secretKey: 'evil-key', publish: ['trade'] },
  { groupId: 's-mc', secretKey: 'mc-key', subscribe: ['trade'] },
];

for (const access of ['a groups file', '--groups none'] as const) {
  describe(`adversary - a TX_ACK from another group (${access})`, function () {
    this.timeout(30_000);
    let producer: RawClient;
    let intruder: RawClient;
    let consumer: RawClient;
    const captured = captureLog('warn');
    const key = (group: string) =>
      access === 'a groups file' ? groups!.find((g) => g.groupId === group)!.secretKey : 'any';
    const env = withBroker({
      bindings: [directBinding('s-mc', 'trade', 'pay-succ')],
      config: { txCheckAgeSec: 1, txCheckIntervalSec: 5, groups: access === 'a groups file' ? groups : null },
      brokerOptions: { log: captured.log },
    });

    before(async () => {
      [producer, intruder, consumer] = await Promise.all([env.raw(), env.raw(), env.raw()]);
      assert.equal((await producer.handshake('p-trade', key('p-trade'))).status, true);
      assert.equal((await intruder.handshake('p-evil', key('p-evil'))).status, true);
      assert.equal((await consumer.handshake('s-mc', key('s-mc'))).status, true);
    });

    async function refusedOn(opaque: number, id: string): Promise<void> {
      const ack = decodeStoreAck(
        (await intruder.next((f) => f.cmdType === CmdType.MESSAGE_STORE_ACK && f.opaque === opaque, 5000)).body,
      );
      assert.deepEqual([ack.messageId, ack.status, ack.feedback], [id, false, Reasons.notPublishingGroup.text]);
      assert.equal((await env.broker.store.get(id))?.header.commit, false, 'still prepared');
    }

    it('a commit decision is refused with the reason and changes nothing; the publisher still decides', async () => {
      const header = aHeader({ commit: false, groupId: 'p-trade' });
      const id = header.messageId;
      assert.equal((await publish(producer, 11, header)).status, true);
      decide(intruder, 21, header, TxStatus.COMMIT);
      await refusedOn(21, id);
      const warn = await eventually(
        () => captured.find('not of the publishing group').find((l) => l.messageId === id),
        2000,
        'the warn line',
      );
      assert.deepEqual([warn?.level, warn?.groupId, warn?.publishingGroup], [40, 'p-evil', 'p-trade']);
      assert.equal(consumer.frames.some(isDeliveryOf(id)), false, 'not delivered');

      decide(producer, 12, header, TxStatus.COMMIT);
      ackDelivery(consumer, await consumer.next(isDeliveryOf(id), 5000), 's-mc');
      await eventually(async () => (await env.broker.store.get(id)) === undefined, 5000, 'finished');
    });

    it('a rollback decision is refused and deletes nothing', async () => {
      const header = aHeader({ commit: false, groupId: 'p-trade' });
      assert.equal((await publish(producer, 13, header)).status, true);
      decide(intruder, 22, header, TxStatus.ROLLBACK);
      await refusedOn(22, header.messageId);
      decide(producer, 14, header, TxStatus.ROLLBACK);
      await eventually(
        async () => (await env.broker.store.get(header.messageId)) === undefined,
        5000,
        'rolled back by its producer',
      );
    });

    it("an answer on the check-back's opaque is refused too; the asked producer's answer still counts", async () => {
      const header = aHeader({ commit: false, groupId: 'p-trade' });
      const id = header.messageId;
      assert.equal((await publish(producer, 15, header)).status, true);
      const check = await nextCheckBack(producer, id, 5000);
      decide(intruder, check.opaque, check.ack.header, TxStatus.COMMIT);
      await refusedOn(check.opaque, id);
      assert.equal(env.broker.txChecks.isChecking(id), true, 'the check-back still awaits its answer');
      decide(producer, check.opaque, check.ack.header, TxStatus.COMMIT);
      ackDelivery(consumer, await consumer.next(isDeliveryOf(id), 5000), 's-mc');
    });
  });
}
