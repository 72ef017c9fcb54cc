// doc/architecture.md §6/§7: the broker is killed (SIGKILL) holding 1,000 prepared messages; after a
// restart they are still there and their check-backs resume; the producer's answers commit half
// and roll back half; exactly the committed half is delivered. On each durable store.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { directBinding } from '../binding/binding';
import { buildStringMessage, KiteQClient, messageProperties, type TxDecision } from '../client';
import { openStore } from '../store/open';
import { countdown, eventually } from './support/events';
import { type BrokerProcess, rmSync, startBrokerProcess, tempDir, serverArgs } from './support/broker';
import { freshTestDatabase, type TestDatabase } from './support/mariadb';
import { freePort } from './support/ports';
import { writeRegistryFile } from './support/registry-file';

const binding = directBinding('s-mc', 'trade', 'pay-succ', { watermark: 100_000 });

const stores: { name: string; uri: (dir: string) => Promise<{ uri: string; drop: () => Promise<void> }> }[] = [
  {
    name: 'file',
    uri: async (dir) => ({ uri: `file://${join(dir, 'store')}?fsync=batch`, drop: async () => undefined }),
  },
  {
    name: 'mysql',
    uri: async () => {
      const db: TestDatabase = await freshTestDatabase();
      return { uri: db.uri(), drop: () => db.drop() };
    },
  },
];

for (const backend of stores) {
  describe(`tx broker restart - ${backend.name} store, broker killed with 1,000 prepared messages`, function () {
    this.timeout(120_000);
    let dir: string;
    let broker: BrokerProcess | undefined;
    let store: { uri: string; drop: () => Promise<void> };
    const clients: KiteQClient[] = [];

    before(async () => {
      dir = tempDir('kiteq-tx-restart-');
      store = await backend.uri(dir);
    });
    after(async () => {
      await Promise.all(clients.map((c) => c.close()));
      await broker?.kill('SIGKILL');
      await store?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('resumes the check-backs after the restart and delivers exactly the committed half', async () => {
      const address = `127.0.0.1:${await freePort()}`;
      const registry = `file://${writeRegistryFile(dir, [{ address, topics: ['trade'] }], [binding])}`;
      const args = [
        ...serverArgs({ bind: address, registry, store: store.uri, topics: 'trade' }),
        '--tx-check-age-sec',
        '1',
        '--tx-check-interval-sec',
        '1',
        '--log-level',
        'debug',
        '--init-schema',
      ];
      broker = await startBrokerProcess(args);

      const received = new Map<string, number>();
      const committed = new Set<string>();
      const arrived = countdown(500, 60_000, 'committed deliveries');
      const consumer = new KiteQClient({
        registry,
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
      // Before the crash the producer does not know yet (unknown); afterwards even n commits, odd n rolls back.
      let decided = false;
      const answers = new Map<string, TxDecision>();
      const producer = new KiteQClient({
        registry,
        groupId: 'p-trade',
        secretKey: 'k',
        publishTopics: ['trade'],
        txCheckListener: (m) => {
          if (!decided) return 'unknown';
          const decision: TxDecision = Number(messageProperties(m).n) % 2 === 0 ? 'commit' : 'rollback';
          answers.set(m.header.messageId, decision);
          return decision;
        },
      });
      clients.push(consumer, producer);
      await consumer.start();
      await producer.start();

      const messages = Array.from({ length: 1000 }, (_, n) =>
        buildStringMessage({
          topic: 'trade',
          messageType: 'pay-succ',
          body: `order ${n}`,
          properties: { n: String(n) },
        }),
      );
      for (const [n, m] of messages.entries()) if (n % 2 === 0) committed.add(m.header.messageId);
      const stored = countdown(1000, 30_000, 'store-acks');
      for (const m of messages)
        void producer.sendTxMessage(m, () => (stored.tick(), new Promise<boolean>(() => undefined)));
      await stored.done; // every one durable (store-ack) and its local transaction running
      assert.equal(await broker.kill('SIGKILL'), null);

      decided = true;
      broker = await broker.restart();
      await arrived.done;
      await eventually(() => answers.size === 1000, 30_000, 'an answer for every message');
      const rolledBack = () => (broker!.log.match(/"outcome":"rollback"/g) ?? []).length;
      await eventually(() => rolledBack() >= 500, 15_000, 'the 500 rollbacks applied');

      assert.deepEqual(new Set(received.keys()), committed, 'exactly the committed half delivered');
      assert.ok(
        [...received.values()].every((n) => n === 1),
        'each once',
      );

      // Stopped cleanly, the store holds nothing: delivered ones acked and deleted, the rest rolled back.
      await broker.kill('SIGTERM');
      broker = undefined;
      const reopened = openStore(store.uri, { serverName: address });
      await reopened.start();
      try {
        assert.deepEqual(await reopened.countsByTopic(), {});
        assert.deepEqual(await reopened.listDeadLetters({ limit: 10 }), []);
      } finally {
        await reopened.stop();
      }
    });
  });
}
