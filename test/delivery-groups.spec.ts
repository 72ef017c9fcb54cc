// doc/architecture.md §3, §6, §8: every matching group gets each message once and a non-matching
// type reaches nobody, on every store backend: only the unmatched message is left stored, and
// nothing is dead-lettered.
import assert from 'node:assert/strict';
import { directBinding, regxBinding } from '../binding/binding';
import { buildStringMessage, type KiteQClient, type Message } from '../client';
import { VirtualClock } from '../server/clock';
import { countdown, eventually } from './support/events';
import { type BrokerStoreKind, withBroker } from './support/with-broker';

/** How each backend is driven: publish window, and how long 20,000 deliveries and the final deletes may take. */
const backends: { store: BrokerStoreKind; window: number; deliveriesMs: number; settleMs: number }[] = [
  { store: 'memory', window: 200, deliveriesMs: 60_000, settleMs: 5000 },
  { store: 'file', window: 500, deliveriesMs: 90_000, settleMs: 10_000 },
  { store: 'mysql', window: 500, deliveriesMs: 90_000, settleMs: 10_000 },
];

for (const { store, window, deliveriesMs, settleMs } of backends) {
  describe(`delivery - two groups bound to one topic (${store} store)`, function () {
    this.timeout(120_000);
    const bindings = [directBinding('s-direct', 'trade', 'pay-succ'), regxBinding('s-regx', 'trade', 'pay-.*')];
    const env = withBroker({ bindings: bindings.map((b) => ({ ...b, watermark: 100_000 })), store });

    function consumer(groupId: string, onMessage: (m: Message) => boolean): Promise<KiteQClient> {
      return env.startClient({ groupId, bindings: bindings.filter((b) => b.groupId === groupId), listener: onMessage });
    }

    it('delivers 10,000 messages to each matching group exactly once, and a non-matching type to nobody', async () => {
      const server = env.broker;
      assert.equal(server.store.kind, store);
      const total = 10_000;
      const seen = { 's-direct': new Map<string, number>(), 's-regx': new Map<string, number>() };
      const all = countdown(total * 2, deliveriesMs, 'deliveries');
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
      const producer = await env.startClient({ groupId: 'p-trade', publishTopics: ['trade'] });

      const unmatched = await producer.send(
        buildStringMessage({ topic: 'trade', messageType: 'refund', body: 'nobody wants me' }),
      );
      assert.equal(unmatched.status, true);
      const ids: string[] = [];
      for (let i = 0; i < total; i += window) {
        const batch = Array.from({ length: Math.min(window, total - i) }, (_, k) =>
          buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: `order-${i + k}` }),
        );
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
      await eventually(() => server.inFlightCount === 0, settleMs, 'every delivery acked at the broker');
      // memory deletes before a message leaves flight; a durable store may still be writing its batch
      if (store === 'memory')
        assert.deepEqual(
          await server.store.countsByTopic(),
          { trade: 1 },
          'only the unmatched message is still stored',
        );
      else
        await eventually(
          async () => JSON.stringify(await server.store.countsByTopic()) === JSON.stringify({ trade: 1 }),
          settleMs,
          'only the unmatched message still stored',
        );
      assert.deepEqual(await server.store.listDeadLetters({ limit: 10 }), [], 'nothing dead-lettered');
    });
  });
}

describe('delivery - two groups, one acks and one nacks (virtual clock)', function () {
  this.timeout(30_000);
  const clock = new VirtualClock();
  const bindings = [directBinding('s-ack', 'trade', 'pay-succ'), directBinding('s-nack', 'trade', 'pay-succ')];
  const env = withBroker({ bindings, brokerOptions: { clock } });

  it('retries only the group that has not acked; the acking group receives exactly once', async () => {
    const got = { 's-ack': 0, 's-nack': 0 };
    for (const groupId of ['s-ack', 's-nack'] as const) {
      await env.startClient({
        groupId,
        bindings: bindings.filter((b) => b.groupId === groupId),
        listener: () => ++got[groupId] > 0 && (groupId === 's-ack' || got[groupId] >= 5),
      });
    }
    const producer = await env.startClient({ groupId: 'p-trade', publishTopics: ['trade'] });
    const { messageId } = await producer.send(
      buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: 'half the groups say no' }),
    );
    for (let attempt = 3; attempt < 5; attempt++) {
      await eventually(
        () => got['s-nack'] === attempt && env.broker.retryScheduledCount === 1 && env.broker.inFlightCount === 0,
        5000,
        `attempt ${attempt} failed and rescheduled (got ${JSON.stringify(got)}, scheduled ${env.broker.retryScheduledCount}, in flight ${env.broker.inFlightCount})`,
      );
      const stored = await env.broker.store.get(messageId);
      assert.deepEqual(
        [stored?.succGroups, stored?.failGroups],
        [['s-ack'], ['s-nack']],
        'the acking group is recorded as succeeded',
      );
      clock.advance(5000);
    }
    await eventually(
      async () => got['s-nack'] === 5 && Object.keys(await env.broker.store.countsByTopic()).length === 0,
      5000,
      'the nacking group accepted on attempt 5',
    );
    assert.deepEqual(got, { 's-ack': 1, 's-nack': 5 });
  });
});
