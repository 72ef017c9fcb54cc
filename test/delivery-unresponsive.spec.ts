// doc/architecture.md §6: a delivery not acked within the delivery timeout is retried at once. The retry goes to
// another consumer of the group, not by chance back to the one that let it time out: that one is
// passed over until it answers again or UNRESPONSIVE_MS pass (doc/delivery.md).
import assert from 'node:assert/strict';
import { directBinding } from '../binding/binding';
import { buildStringMessage, type KiteQClient, type MessageListener } from '../client';
import { countdown } from './support/events';
import { withBroker } from './support/with-broker';

describe('delivery - a retry after a timeout passes over the consumer that timed out', function () {
  this.timeout(30_000);
  const env = withBroker({
    bindings: [directBinding('s-pool', 'trade', 'pay-succ')],
    config: { deliveryTimeoutMs: 400 },
  });

  function consumer(listener: MessageListener): KiteQClient {
    return env.client({ groupId: 's-pool', bindings: [directBinding('s-pool', 'trade', 'pay-succ')], listener });
  }

  it('sends every timed-out delivery to the consumer that answers, none twice to the silent one', async () => {
    const total = 40;
    const atSilent: string[] = [];
    const atAnswering = new Set<string>();
    const all = countdown(total, 20_000, 'messages acked by the answering consumer');
    const silent = consumer((m) => {
      atSilent.push(m.header.messageId);
      return new Promise<boolean>(() => {}); // reads, never answers
    });
    const answering = consumer((m) => {
      if (!atAnswering.has(m.header.messageId)) all.tick();
      atAnswering.add(m.header.messageId);
      return true;
    });
    const producer = env.client({ groupId: 'p-trade', publishTopics: ['trade'] });
    await Promise.all([silent.start(), answering.start(), producer.start()]);
    await Promise.all(
      Array.from({ length: total }, (_, i) =>
        producer.send(buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: `m${i}` })),
      ),
    );
    await all.done;
    // Both consumers were picked at random for first attempts; every retry went to the one that answers.
    assert.ok(atSilent.length > 0, 'the silent consumer got first attempts (random pick between two)');
    assert.equal(
      new Set(atSilent).size,
      atSilent.length,
      `no message went back to the silent consumer (${atSilent.length} deliveries there)`,
    );
  });
});
