// doc/architecture.md §4, §6, §8: a kiteq-server process on mysql:// killed with SIGKILL while producers send,
// then restarted on the same address: every message it acked is delivered (from the tables, by the
// recovery scan at start); duplicates are allowed (at-least-once) and counted.
import assert from 'node:assert/strict';
import { directBinding } from '../binding/binding';
import { buildStringMessage, KiteQClient } from '../client';
import { rmSync, startBrokerProcess, tempDir, type BrokerProcess, serverArgs } from './support/broker';
import { eventually } from './support/events';
import { withTestDatabase } from './support/mariadb';
import { freePort } from './support/ports';
import { writeRegistryFile } from './support/registry-file';

describe('mysql broker - SIGKILL mid-stream and restart', function () {
  this.timeout(90_000);
  const database = withTestDatabase();
  const clients: KiteQClient[] = [];
  let broker: BrokerProcess | undefined;
  let dir = '';
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await broker?.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('delivers every acked message after the restart', async () => {
    dir = tempDir();
    const address = `127.0.0.1:${await freePort()}`;
    const binding = directBinding('s-crash', 'trade', 'pay-succ', { watermark: 100_000 });
    const registry = `file://${writeRegistryFile(dir, [{ address, topics: ['trade'] }], [binding])}`;
    const args = [
      ...serverArgs({ bind: address, registry, store: database.current.uri(), topics: 'trade' }),
      '--log-level',
      'warn',
      '--recover-interval-ms',
      '1000',
      '--delivery-timeout-ms',
      '30000',
    ];
    broker = await startBrokerProcess(args);

    const received = new Map<string, number>();
    // A consumer slower than the producers (one message at a time, ~1 ms each), so acked messages
    // wait in the tables and deliveries are in flight when the broker dies.
    let queue = Promise.resolve();
    const consume = (id: string) =>
      (queue = queue
        .then(() => new Promise<void>((done) => setTimeout(done, 1)))
        .then(() => void received.set(id, (received.get(id) ?? 0) + 1)));
    const consumer = new KiteQClient({
      registry,
      groupId: 's-crash',
      secretKey: 'k',
      bindings: [binding],
      listener: async (m) => (await consume(m.header.messageId), true),
    });
    const producer = new KiteQClient({
      registry,
      groupId: 'p-trade',
      secretKey: 'k',
      publishTopics: ['trade'],
      sendRetry: { retries: 0 },
    });
    clients.push(consumer, producer);
    await consumer.start();
    await producer.start();

    const total = 6000;
    const acked: string[] = [];
    let failed = 0;
    let undeliveredAtKill = -1;
    let restarted: Promise<void> | null = null;
    const crashAndRestart = async () => {
      undeliveredAtKill = acked.filter((id) => !received.has(id)).length;
      assert.equal(await broker!.kill('SIGKILL'), null, 'killed by the signal');
      broker = await broker!.restart();
      await eventually(
        () => producer.readyConnections === 1 && consumer.readyConnections === 1,
        15_000,
        'clients reconnected',
      );
    };
    // 100 producers' worth of sends in flight at all times; the kill lands among them.
    let next = 0;
    const worker = async () => {
      while (next < total) {
        const n = next++;
        try {
          const ack = await producer.send(
            buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: `m-${n}` }),
          );
          acked.push(ack.messageId);
          if (acked.length === total / 3) restarted = crashAndRestart();
        } catch {
          failed++;
          await restarted; // down: wait for the restart instead of failing the rest
        }
      }
    };
    await Promise.all(Array.from({ length: 100 }, worker));
    await restarted;
    assert.ok(acked.length >= total - 200, `sends acked: ${acked.length}, failed while it was down: ${failed}`);
    await eventually(() => acked.every((id) => received.has(id)), 30_000, 'every acked message delivered', 100);
    const duplicates = [...received.values()].filter((n) => n > 1).length;
    console.log(
      `      acked ${acked.length} (${undeliveredAtKill} not yet delivered at the kill), failed ${failed}, delivered ${received.size}, duplicates ${duplicates}`,
    );
    // Redelivered: what the consumer had received but not acked, or acked without the broker
    // recording it, when the broker died (the long delivery timeout keeps a slow consumer on a
    // loaded machine from adding timeouts' redeliveries to these).
    assert.ok(
      duplicates <= undeliveredAtKill + 500,
      `duplicates bounded by what was in flight at the kill (${duplicates})`,
    );
  });
});
