// doc/architecture.md §6: a nack or a delivery timeout is retried (attempts 2 and 3 at once).
import assert from 'node:assert/strict';
import { directBinding } from '../binding/binding';
import { buildStringMessage, type KiteQClient, type MessageListener } from '../client';
import { countdown } from './support/events';
import { withBroker } from './support/with-broker';

describe('delivery - redelivery after a nack or a timeout', function () {
  this.timeout(30_000);
  const env = withBroker(
    { bindings: [directBinding('s-mc', 'trade', 'pay-succ')], config: { deliveryTimeoutMs: 800 } },
    { perTest: true },
  );

  function client(groupId: string, listener?: MessageListener): Promise<KiteQClient> {
    const bindings = groupId.startsWith('s-') ? [directBinding(groupId, 'trade', 'pay-succ')] : [];
    return env.startClient({ groupId, bindings, publishTopics: ['trade'], listener });
  }

  it('gives a message again to a consumer that returned false', async () => {
    const attempts: string[] = [];
    const accepted = countdown(1, 10_000, 'accepted deliveries');
    await client('s-mc', (m) => {
      attempts.push(m.header.messageId);
      if (attempts.length < 2) return false;
      accepted.tick();
      return true;
    });
    const producer = await client('p-trade');
    const ack = await producer.send(
      buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: 'nack me once' }),
    );
    await accepted.done;
    assert.deepEqual(attempts, [ack.messageId, ack.messageId]);
  });

  it('gives a message again after the delivery timeout to a consumer that never answered', async () => {
    const arrivals: number[] = [];
    const second = countdown(2, 10_000, 'deliveries');
    await client('s-mc', (m) => {
      arrivals.push(Date.now());
      second.tick();
      if (arrivals.length === 1) return new Promise<boolean>(() => {}); // never answers
      return m.header.messageType === 'pay-succ';
    });
    const producer = await client('p-trade');
    await producer.send(buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: 'ignore me once' }));
    await second.done;
    const gap = arrivals[1] - arrivals[0];
    assert.ok(gap >= 700, `redelivered only after the 800 ms timeout (gap ${gap} ms)`);
  });
});
