// doc/architecture.md §6 producer back-pressure: a publish rate limit per broker (KiteQ's
// recievePermitsPerSecond) and a bound on undelivered bytes held in memory, both answered with
// store-ack false "overflow" (retriable), never by memory growing without bound.
import assert from 'node:assert/strict';
import { directBinding } from '../binding/binding';
import { BrokerRejectedError, buildStringMessage, KiteQClient } from '../client';
import type { BrokerConfig } from '../server/config';
import { eventually } from './support/events';
import { startBroker, type TestBroker } from './support/broker';

type Outcome = { ok: true; messageId: string } | { ok: false; reason: string };

describe('delivery back-pressure - publish rate limit and undelivered-bytes bound', function () {
  this.timeout(30_000);
  let env: TestBroker;
  const clients: KiteQClient[] = [];

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await env.stop();
  });

  async function setup(
    config: Partial<BrokerConfig>,
    watermark: number,
    onMessage: (id: string) => void,
  ): Promise<KiteQClient> {
    const binding = directBinding('s-bp', 'trade', 'pay-succ', { watermark });
    env = await startBroker({ bindings: [binding], config });
    const consumer = new KiteQClient({
      registry: env.registryUri,
      groupId: 's-bp',
      secretKey: 'k',
      bindings: [binding],
      listener: (m) => (onMessage(m.header.messageId), true),
    });
    const producer = new KiteQClient({
      registry: env.registryUri,
      groupId: 'p-trade',
      secretKey: 'k',
      publishTopics: ['trade'],
      sendRetry: { retries: 0 },
    });
    clients.push(consumer, producer);
    await consumer.start();
    await producer.start();
    return producer;
  }

  async function publish(producer: KiteQClient, body: string): Promise<Outcome> {
    try {
      const ack = await producer.send(buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body }));
      return { ok: true, messageId: ack.messageId };
    } catch (error) {
      if (error instanceof BrokerRejectedError) return { ok: false, reason: error.reason };
      throw error;
    }
  }

  it('answers "overflow" past publishPermitsPerSecond and accepts again a second later', async () => {
    const delivered = new Set<string>();
    const producer = await setup({ publishPermitsPerSecond: 50 }, 100_000, (id) => delivered.add(id));
    const burst = await Promise.all(Array.from({ length: 200 }, (_, i) => publish(producer, `b${i}`)));
    const accepted = burst.filter((o): o is Extract<Outcome, { ok: true }> => o.ok);
    const refused = burst.filter((o): o is Extract<Outcome, { ok: false }> => !o.ok);
    assert.ok(
      accepted.length >= 50 && accepted.length <= 70,
      `${accepted.length} of 200 accepted (50/s, one second's burst)`,
    );
    assert.equal(refused.length + accepted.length, 200);
    assert.ok(
      refused.every((o) => o.reason === 'overflow'),
      'every refusal says overflow',
    );
    await eventually(() => accepted.every((o) => delivered.has(o.messageId)), 5000, 'every accepted message delivered');
    const later = await eventually(
      async () => {
        const o = await publish(producer, 'after the refill');
        return o.ok ? o : null;
      },
      3000,
      'a publish accepted after the bucket refilled',
      200,
    );
    assert.ok(later?.ok);
  });

  it('answers "overflow" while undelivered bytes exceed maxUndeliveredBytes, and accepts once they drain', async () => {
    const delivered = new Set<string>();
    const body = 'x'.repeat(2000); // ~4.3 KB held per waiting delivery
    // watermark 10/s: deliveries queue up in memory faster than the group may take them
    const producer = await setup({ maxUndeliveredBytes: 40_000 }, 10, (id) => delivered.add(id));
    const outcomes: Outcome[] = [];
    for (let i = 0; i < 60; i++)
      outcomes.push(...(await Promise.all([publish(producer, body), publish(producer, body)])));
    const accepted = outcomes.filter((o): o is Extract<Outcome, { ok: true }> => o.ok);
    const refused = outcomes.filter((o): o is Extract<Outcome, { ok: false }> => !o.ok);
    assert.ok(refused.length > 0, 'some publishes refused');
    assert.ok(refused.every((o) => o.reason === 'overflow'));
    // burst of 10 delivered at once + what fits in 40 KB (~9 jobs) + the 10/s trickle meanwhile
    assert.ok(accepted.length < 45, `${accepted.length} accepted: the queue stayed bounded`);
    await eventually(
      () => accepted.filter((o) => delivered.has(o.messageId)).length === accepted.length,
      15_000,
      `${accepted.length} accepted messages delivered`,
    );
    const after = await publish(producer, body);
    assert.ok(after.ok, 'accepted again once the backlog drained');
  });
});
