// design §3, §6 on mysql:// (design §8): the same end-to-end run as test/delivery-groups.spec.ts:
// every matching group gets each message once, a non-matching type reaches nobody, and only the
// unmatched message is left in the tables.
import assert from 'node:assert/strict';
import { directBinding, regxBinding } from '../binding/binding';
import { buildStringMessage, KiteQClient, type Message } from '../client';
import { countdown, eventually } from './support/events';
import { startBroker, type TestBroker } from './support/broker';
import { withTestDatabase } from './support/mariadb';

describe('mysql delivery - two groups bound to one topic', function () {
  this.timeout(120_000);
  const database = withTestDatabase();
  let env: TestBroker;
  const clients: KiteQClient[] = [];
  const bindings = [directBinding('s-direct', 'trade', 'pay-succ'), regxBinding('s-regx', 'trade', 'pay-.*')];

  before(async () => {
    env = await startBroker({ bindings: bindings.map((b) => ({ ...b, watermark: 100_000 })), config: { store: database.current.uri() } });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await env?.stop();
  });

  async function consumer(groupId: string, onMessage: (m: Message) => boolean): Promise<KiteQClient> {
    const client = new KiteQClient({ registry: env.registryUri, groupId, secretKey: 'k', bindings: bindings.filter((b) => b.groupId === groupId), listener: onMessage });
    clients.push(client);
    await client.start();
    return client;
  }

  it('delivers 10,000 messages to each matching group exactly once, and a non-matching type to nobody', async () => {
    assert.equal(env.broker.store.kind, 'mysql');
    const total = 10_000;
    const seen = { 's-direct': new Map<string, number>(), 's-regx': new Map<string, number>() };
    const all = countdown(total * 2, 90_000, 'deliveries');
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
    const window = 500;
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
    await eventually(() => env.broker.inFlightCount === 0, 10_000, 'every delivery acked at the broker');
    await eventually(async () => JSON.stringify(await env.broker.store.countsByTopic()) === JSON.stringify({ trade: 1 }), 10_000, 'only the unmatched message still stored');
    const [rows] = await database.current.sql.query(`SELECT COUNT(*) AS n FROM \`${database.current.db}_0\`.kite_msg_dlq`);
    assert.deepEqual(rows, [{ n: 0 }], 'nothing dead-lettered');
  });
});
