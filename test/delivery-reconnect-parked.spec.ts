// doc/delivery.md "Recovery manager": a message the publish path parked just before its group's
// first consumer connected goes out at once when it connects, ahead of the scan that walks the
// backlog in due order (and met it last, seconds later with a large backlog).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { directBinding } from '../binding/binding';
import { buildStringMessage, KiteQClient } from '../client';
import { startBroker, tempDir, type TestBroker } from './support/broker';
import { countdown, eventually } from './support/events';
import { freshTestDatabase, type TestDatabase } from './support/mariadb';

// a backlog the scan walks in many pages
const N = 4_000;

for (const backend of ['memory', 'file', 'mysql'] as const) {
  describe(`delivery (${backend}) - messages parked around a group's first consumer go out at once`, function () {
    this.timeout(60_000);
    let env: TestBroker;
    let database: TestDatabase | undefined;
    const clients: KiteQClient[] = [];

    afterEach(async () => {
      await Promise.all(clients.splice(0).map((c) => c.close()));
      await env.stop();
      await database?.drop();
    });

    async function storeUri(): Promise<string> {
      if (backend === 'memory') return 'memory://';
      if (backend === 'file') return `file://${join(tempDir(), 'data')}`;
      database = await freshTestDatabase();
      return database.uri();
    }

    async function client(groupId: string, listener?: (id: string) => void): Promise<KiteQClient> {
      const c = new KiteQClient({
        registry: env.registryUri,
        groupId,
        secretKey: 'k',
        publishTopics: ['trade'],
        listener: listener && ((m) => (listener(m.header.messageId), true)),
      });
      clients.push(c);
      await c.start();
      return c;
    }

    const send = (producer: KiteQClient) =>
      producer.send(buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: 'x' }));

    it('delivers the message parked just before the connect ahead of the backlog', async () => {
      env = await startBroker({
        bindings: [directBinding('s-late', 'trade', 'pay-succ')],
        config: { store: await storeUri() },
      });
      const producer = await client('p-trade');
      for (let i = 0; i < N; i += 200) await Promise.all(Array.from({ length: 200 }, () => send(producer)));
      const last = (await send(producer)).messageId;
      await eventually(
        async () => {
          const stored = await env.broker.store.get(last);
          return (
            stored !== undefined && stored.failGroups.length === 0 && stored.nextDeliverTime > Date.now() / 1000 + 30
          );
        },
        20_000,
        'the last message parked for the offline group',
      );

      const order: string[] = [];
      const got = countdown(N + 2, 30_000, 'deliveries to s-late');
      await client('s-late', (id) => (order.push(id), got.tick()));
      await send(producer);
      await got.done;

      // Before: the scan walked the backlog by due time and met the last-parked message at the end.
      assert.ok(
        order.indexOf(last) < 100,
        `parked just before the connect, delivered ${order.indexOf(last)}th of ${N + 2}`,
      );
    });
  });
}
