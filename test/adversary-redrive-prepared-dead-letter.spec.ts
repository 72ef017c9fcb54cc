// Attack: re-drive a prepared dead letter to get an uncommitted message delivered. A transaction no
// one decided ends in the dead letters (final action rollback); re-driving it (Broker.redrive,
// redriveWhere, POST /dlq/redrive) must make it prepared again and check back its group: the
// consumer sees it only after a commit (doc/transactions.md, doc/security.md).
import assert from 'node:assert/strict';
import { directBinding } from '../binding/binding';
import { CmdType } from '../protocol/commands';
import { TxStatus } from '../protocol/messages/tx-ack';
import { eventually } from './support/events';
import { withBroker } from './support/with-broker';
import { aHeader } from './support/messages';
import type { RawClient } from './support/raw-client';
import { ackDelivery, decide, isCheckBack, isDeliveryOf, nextCheckBack, publish } from './support/raw-tx';

const TOKEN = 'redrive-token';

describe('adversary - re-driving a prepared dead letter', function () {
  this.timeout(30_000);
  const env = withBroker({
    bindings: [directBinding('s-mc', 'trade', 'pay-succ')],
    config: { txCheckAgeSec: 1, txCheckIntervalSec: 2, txMaxChecks: 1, http: '127.0.0.1:0', httpToken: TOKEN },
  });
  let producer: RawClient;
  let consumer: RawClient;
  let opaque = 100;

  before(async () => {
    producer = await env.raw();
    assert.equal((await producer.handshake('p-trade', 'k')).status, true);
    consumer = await env.raw();
    assert.equal((await consumer.handshake('s-mc', 'k')).status, true);
  });

  /** A prepared message whose producer never answers: the final action rolls it into the dead letters. */
  async function undecidedDeadLetter() {
    const header = aHeader({ commit: false, groupId: 'p-trade' });
    const id = header.messageId;
    assert.equal((await publish(producer, ++opaque, header)).status, true);
    await eventually(
      async () =>
        (await env.broker.listDeadLetters({ topic: 'trade', limit: 100 })).some(
          (l) => l.message.header.messageId === id,
        ),
      10_000,
      'the dead letter',
    );
    producer.frames.splice(0); // the unanswered check-back
    return header;
  }

  /** Which comes first after the re-drive: a delivery to the consumer or a check-back to the producer. */
  function firstAfterRedrive(id: string): Promise<string | undefined> {
    return eventually(
      () =>
        consumer.frames.some(isDeliveryOf(id))
          ? 'delivery'
          : producer.frames.some(isCheckBack(id))
            ? 'check-back'
            : undefined,
      10_000,
      'a delivery or a check-back',
      10,
    );
  }

  async function commitThenDelivered(header: ReturnType<typeof aHeader>): Promise<void> {
    const id = header.messageId;
    const stored = await env.broker.store.get(id);
    assert.deepEqual(
      [stored?.header.commit, stored?.checkCount],
      [false, 1],
      'prepared again, its first new check-back recorded',
    );
    const check = await nextCheckBack(producer, id, 5000);
    assert.equal(check.ack.status, TxStatus.UNKNOWN);
    decide(producer, check.opaque, check.ack.header, TxStatus.COMMIT);
    const delivery = await consumer.next(isDeliveryOf(id), 5000);
    ackDelivery(consumer, delivery, 's-mc');
    await eventually(async () => (await env.broker.store.get(id)) === undefined, 5000, 'finished after the ack');
  }

  it('Broker.redrive: back to prepared and checked back; delivered only after the commit', async () => {
    const header = await undecidedDeadLetter();
    assert.equal(await env.broker.redrive([header.messageId]), 1);
    assert.equal(
      await firstAfterRedrive(header.messageId),
      'check-back',
      'a prepared message must not be delivered by a re-drive',
    );
    await commitThenDelivered(header);
  });

  it('POST /dlq/redrive: the same', async () => {
    const header = await undecidedDeadLetter();
    const res = await fetch(`http://${env.broker.httpAddress}/dlq/redrive`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ ids: [header.messageId] }),
    });
    assert.deepEqual(await res.json(), { redriven: [header.messageId], missing: [] });
    assert.equal(await firstAfterRedrive(header.messageId), 'check-back');
    await commitThenDelivered(header);
  });

  it('a re-driven prepared message rolled back by its producer is never delivered', async () => {
    const header = await undecidedDeadLetter();
    assert.equal(await env.broker.redriveWhere({ topic: 'trade' }), 1);
    const check = await nextCheckBack(producer, header.messageId, 5000);
    decide(producer, check.opaque, check.ack.header, TxStatus.ROLLBACK);
    await eventually(async () => (await env.broker.store.get(header.messageId)) === undefined, 5000, 'rolled back');
    assert.equal(
      consumer.frames.some((f) => f.cmdType === CmdType.STRING_MESSAGE),
      false,
    );
  });
});
