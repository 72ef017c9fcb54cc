// design §3, §6: every matching group gets each message once; a non-matching type reaches nobody.
import assert from 'node:assert/strict';
import { directBinding, regxBinding } from '../binding/binding';
import { buildStringMessage, KiteQClient, type Message } from '../client';
import { VirtualClock } from '../server/clock';
import { countdown, eventually } from './support/events';
import { startBroker, type TestBroker } from './support/broker';

describe('delivery - two groups bound to one topic', function () {
  this.timeout(120_000);
  let env: TestBroker;
  const clients: KiteQClient[] = [];
  const bindings = [directBinding('s-direct', 'trade', 'pay-succ'), regxBinding('s-regx', 'trade', 'pay-.*')];

  before(async () => {
    env = await startBroker({ bindings: bindings.map((b) => ({ ...b, watermark: 100_000 })) });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await env.stop();
  });

  async function consumer(groupId: string, onMessage: (m: Message) => boolean): Promise<KiteQClient> {
    const client = new KiteQClient({ registry: env.registryUri, groupId, secretKey: 'k', bindings: bindings.filter((b) => b.groupId === groupId), listener: onMessage });
    clients.push(client);
    await client.start();
    return client;
  }

  it('delivers 10,000 messages to each matching group exactly once, and a non-matching type to nobody', async () => {
    const total = 10_000;
    const seen = { 's-direct': new Map<string, number>(), 's-regx': new Map<string, number>() };
    const all = countdown(total * 2, 60_000, 'deliveries');
    const strays: string[] = [];
    for (const groupId of ['s-direct', 's-regx'] as const) {
      await consumer(groupId, (m) => {
        if (m.header.messageType !== 'pay-succ') strays.push(`${groupId}:${m.header.messageType}`);
        const n = (seen[groupId].get(m.header.messageId) ?? 0) + 1;
        seen[groupId].set(m.header.messageId, n);
        if (n === 1) all.tick();
        return true;
      });
    }
    const producer = new KiteQClient({ registry: env.registryUri, groupId: 'p-trade', secretKey: 'k', publishTopics: ['trade'] });
    clients.push(producer);
    await producer.start();

    const unmatched = await producer.send(buildStringMessage({ topic: 'trade', messageType: 'refund', body: 'nobody wants me' }));
    assert.equal(unmatched.status, true);
    const ids: string[] = [];
    const window = 200;
    for (let i = 0; i < total; i += window) {
      const batch = Array.from({ length: Math.min(window, total - i) }, (_, k) => buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: `order-${i + k}` }));
      const acks = await Promise.all(batch.map((m) => producer.send(m)));
      for (const ack of acks) ids.push(ack.messageId);
    }
    await all.done;
    for (const groupId of ['s-direct', 's-regx'] as const) {
      assert.equal(seen[groupId].size, total, `${groupId} received every message`);
      const dupes = [...seen[groupId].values()].filter((n) => n > 1).length;
      assert.equal(dupes, 0, `${groupId} received no duplicates in a fault-free run`);
      assert.deepEqual([...seen[groupId].keys()].sort(), [...ids].sort());
    }
    assert.deepEqual(strays, []);
    await eventually(() => env.broker.inFlightCount === 0, 5000, 'every delivery acked at the broker');
    assert.deepEqual(await env.broker.store.countsByTopic(), { trade: 1 }, 'only the unmatched message is still stored');
  });
});

describe('delivery - two groups, one acks and one nacks (virtual clock)', function () {
  this.timeout(30_000);
  let env: TestBroker;
  const clock = new VirtualClock();
  const clients: KiteQClient[] = [];
  const bindings = [directBinding('s-ack', 'trade', 'pay-succ'), directBinding('s-nack', 'trade', 'pay-succ')];

  before(async () => {
    env = await startBroker({ bindings, brokerOptions: { clock } });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await env.stop();
  });

  it('retries only the group that has not acked; the acking group receives exactly once', async () => {
    const got = { 's-ack': 0, 's-nack': 0 };
    for (const groupId of ['s-ack', 's-nack'] as const) {
      const c = new KiteQClient({ registry: env.registryUri, groupId, secretKey: 'k', bindings: bindings.filter((b) => b.groupId === groupId), listener: () => ++got[groupId] > 0 && (groupId === 's-ack' || got[groupId] >= 5) });
      clients.push(c);
      await c.start();
    }
    const producer = new KiteQClient({ registry: env.registryUri, groupId: 'p-trade', secretKey: 'k', publishTopics: ['trade'] });
    clients.push(producer);
    await producer.start();
    const { messageId } = await producer.send(buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: 'half the groups say no' }));
    for (let attempt = 3; attempt < 5; attempt++) {
      await eventually(() => got['s-nack'] === attempt && env.broker.retryScheduledCount === 1 && env.broker.inFlightCount === 0, 5000, `attempt ${attempt} failed and rescheduled (got ${JSON.stringify(got)}, scheduled ${env.broker.retryScheduledCount}, in flight ${env.broker.inFlightCount})`);
      const stored = await env.broker.store.get(messageId);
      assert.deepEqual([stored?.succGroups, stored?.failGroups], [['s-ack'], ['s-nack']], 'the acking group is recorded as succeeded');
      clock.advance(5000);
    }
    await eventually(async () => got['s-nack'] === 5 && Object.keys(await env.broker.store.countsByTopic()).length === 0, 5000, 'the nacking group accepted on attempt 5');
    assert.deepEqual(got, { 's-ack': 1, 's-nack': 5 });
  });
});
