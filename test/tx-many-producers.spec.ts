// 10,000 transactional messages from 4 producers, half committed and half rolled back
// by their local transactions: the consumer receives exactly the committed ones, once each.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { directBinding } from '../binding/binding';
import { buildStringMessage, KiteQClient } from '../client';
import { countdown, eventually } from './support/events';
import { rmSync, startBroker, tempDir, type TestBroker } from './support/broker';

describe('tx messages - 10,000 from 4 producers on the file store', function () {
  this.timeout(120_000);
  const binding = directBinding('s-mc', 'trade', 'pay-succ', { watermark: 100_000 });
  let env: TestBroker;
  const clients: KiteQClient[] = [];

  let dir: string;

  before(async () => {
    dir = tempDir('kiteq-tx-many-');
    env = await startBroker({ bindings: [binding], config: { store: `file://${join(dir, 'store')}?fsync=batch` } });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await env?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers exactly the committed 5,000', async () => {
    const perProducer = 2500;
    const received = new Map<string, number>();
    const committed = new Set<string>();
    const arrived = countdown(5000, 90_000, 'committed deliveries');
    const consumer = new KiteQClient({
      registry: env.registryUri,
      groupId: 's-mc',
      secretKey: 'k',
      bindings: [binding],
      listener: (m) => {
        const n = (received.get(m.header.messageId) ?? 0) + 1;
        received.set(m.header.messageId, n);
        if (n === 1 && committed.has(m.header.messageId)) arrived.tick();
        return true;
      },
    });
    clients.push(consumer);
    await consumer.start();
    const producers = await Promise.all(
      [0, 1, 2, 3].map(async (p) => {
        const client = new KiteQClient({
          registry: env.registryUri,
          groupId: `p-trade-${p}`,
          secretKey: 'k',
          publishTopics: ['trade'],
          txCheckListener: () => 'unknown',
        });
        clients.push(client);
        await client.start();
        return client;
      }),
    );
    const decisions = await Promise.all(
      producers.map(async (client, p) => {
        const out: string[] = [];
        const window = 100;
        for (let i = 0; i < perProducer; i += window) {
          const batch = Array.from({ length: window }, (_, k) =>
            buildStringMessage({
              topic: 'trade',
              messageType: 'pay-succ',
              body: `p${p} order ${i + k}`,
              properties: { n: String(i + k) },
            }),
          );
          for (const [k, m] of batch.entries()) if ((i + k) % 2 === 0) committed.add(m.header.messageId);
          const results = await Promise.all(
            batch.map((m) => client.sendTxMessage(m, async () => committed.has(m.header.messageId))),
          );
          out.push(...results);
        }
        return out;
      }),
    );
    assert.equal(decisions.flat().filter((d) => d === 'commit').length, 5000);
    await arrived.done;
    await eventually(
      async () => Object.keys(await env.broker.store.countsByTopic()).length === 0,
      20_000,
      'every message acked or rolled back',
    );
    assert.equal(received.size, 5000, 'nothing rolled back was delivered');
    assert.deepEqual(new Set(received.keys()), committed);
    assert.ok(
      [...received.values()].every((n) => n === 1),
      'each once',
    );
  });
});
