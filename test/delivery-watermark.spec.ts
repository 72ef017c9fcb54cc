// doc/architecture.md §3, §5 deliver-qos: a group's watermark (messages/s) paces its deliveries; the excess
// waits without burning attempts (its delivery timeout starts when it is actually sent).
import assert from 'node:assert/strict';
import { directBinding } from '../binding/binding';
import { buildStringMessage } from '../client';
import { countdown, eventually } from './support/events';
import { withBroker } from './support/with-broker';

describe('delivery watermark - 100 messages/s', function () {
  this.timeout(60_000);
  // a delivery timeout far below the 9 s the backlog waits: waiting must not count against it
  const env = withBroker({
    bindings: [directBinding('s-slow', 'trade', 'pay-succ', { watermark: 100 })],
    config: { deliveryTimeoutMs: 2000 },
  });

  it('spreads 1,000 messages over at least 9 s, none retried or dead-lettered for waiting', async () => {
    const total = 1000;
    const arrivals = new Map<string, number>();
    let duplicates = 0;
    const all = countdown(total, 30_000, 'deliveries');
    const consumer = env.client({
      groupId: 's-slow',
      bindings: [directBinding('s-slow', 'trade', 'pay-succ', { watermark: 100 })],
      listener: (m) => {
        if (arrivals.has(m.header.messageId)) duplicates++;
        else {
          arrivals.set(m.header.messageId, Date.now());
          all.tick();
        }
        return true;
      },
    });
    const producer = env.client({ groupId: 'p-trade', publishTopics: ['trade'] });
    await consumer.start();
    await producer.start();
    const acks = await Promise.all(
      Array.from({ length: total }, (_, i) =>
        producer.send(buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: `m${i}` })),
      ),
    );
    assert.ok(acks.every((a) => a.status));
    await all.done;
    const times = [...arrivals.values()].sort((a, b) => a - b);
    const spreadMs = times[times.length - 1] - times[0];
    // one second's burst (100), then 900 at 100/s
    assert.ok(spreadMs >= 8500, `deliveries spread over ${spreadMs} ms`);
    const firstSecond = times.filter((t) => t - times[0] < 1000).length;
    assert.ok(firstSecond <= 220, `${firstSecond} deliveries in the first second (burst 100 + 100/s)`);
    const { retried, deadLettered, failed } = env.broker.counters.total;
    assert.deepEqual(
      { retried, deadLettered, failed, duplicates },
      { retried: 0, deadLettered: 0, failed: 0, duplicates: 0 },
    );
    await eventually(
      async () => Object.keys(await env.broker.store.countsByTopic()).length === 0,
      5000,
      'every message finished',
    );
  });
});
