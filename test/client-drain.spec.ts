// close({ drain: true }) waits for listener calls and sends in flight, so their acks and
// store-acks are not lost to the close (doc/client.md).
import assert from 'node:assert/strict';
import { directBinding } from '../binding/binding';
import { buildStringMessage, ClientClosedError } from '../client';
import { withBroker } from './support/with-broker';
import { countdown, eventually } from './support/events';

describe('client - close with drain', function () {
  this.timeout(20_000);
  const env = withBroker({ bindings: [directBinding('s-mc', 'trade', 'pay-succ')] }, { perTest: true });
  const client = env.client;

  it('acks the message a listener is still handling before it closes', async () => {
    const called = countdown(1, 10_000, 'listener called');
    let finish!: () => void;
    const consumer = client({
      groupId: 's-mc',
      bindings: [directBinding('s-mc', 'trade', 'pay-succ')],
      listener: () => {
        called.tick();
        return new Promise<boolean>((resolve) => (finish = () => resolve(true)));
      },
    });
    const producer = client({ groupId: 'p-trade', publishTopics: ['trade'] });
    await Promise.all([consumer.start(), producer.start()]);
    const { messageId } = await producer.send(
      buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: 'slow' }),
    );
    await called.done;

    let closedSeen = false;
    void consumer.closed().then(() => (closedSeen = true));
    const closing = consumer.close({ drain: true });
    assert.deepEqual([consumer.status().state, consumer.status().inFlight], ['draining', { deliveries: 1, sends: 0 }]);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(closedSeen, false, 'closed() waits for the drain');
    finish();
    await closing;
    await consumer.closed();
    assert.equal(consumer.status().state, 'closed');
    // the only bound group acked it: the broker finished the message
    await eventually(
      async () => (await env.broker.store.get(messageId)) === undefined,
      5000,
      'the message acked and removed',
    );
  });

  it('settles a send in flight before it closes, and refuses new ones', async () => {
    const producer = client({ groupId: 'p-trade', publishTopics: ['trade'] });
    await producer.start();
    const sending = producer.send(buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: 'in flight' }));
    const closing = producer.close({ drain: true });
    await assert.rejects(
      producer.send(buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: 'late' })),
      ClientClosedError,
    );
    const result = await sending;
    await closing;
    assert.equal(result.status, true);
    assert.ok(await env.broker.store.get(result.messageId));
  });
});
