// doc/architecture.md §6 recovery manager: after a crash (SIGKILL) and restart, stored committed unfinished
// messages are re-driven by cursor and their retry schedules resume, with no producer around.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { directBinding } from '../binding/binding';
import { buildStringMessage, KiteQClient } from '../client';
import { countdown } from './support/events';
import { type BrokerProcess, rmSync, startBrokerProcess, tempDir, serverArgs } from './support/broker';
import { freePort } from './support/ports';
import { writeRegistryFile } from './support/registry-file';

describe('delivery recovery - broker killed with 10,000 undelivered messages (file store)', function () {
  this.timeout(180_000);
  let dir: string;
  let broker: BrokerProcess | null = null;
  const clients: KiteQClient[] = [];

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await broker?.kill('SIGKILL');
    broker = null;
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers every stored message after a restart, with no producer connected', async () => {
    dir = tempDir('kiteq-recovery-');
    const address = `127.0.0.1:${await freePort()}`;
    const binding = directBinding('s-rec', 'trade', 'pay-succ', { watermark: 100_000 });
    const registry = `file://${writeRegistryFile(dir, [{ address, topics: ['trade'] }], [binding])}`;
    const args = [
      ...serverArgs({
        bind: address,
        registry,
        store: `file://${join(dir, 'store')}?fsync=batch`,
        topics: 'trade',
      }),
      '--log-level',
      'warn',
    ];
    broker = await startBrokerProcess(args);

    // No consumer online: each message fails attempts 1-3 and waits for its 5 s retry in the store.
    const producer = new KiteQClient({ registry, groupId: 'p-trade', secretKey: 'k', publishTopics: ['trade'] });
    await producer.start();
    const total = 10_000;
    const acked: string[] = [];
    for (let i = 0; i < total; i += 500) {
      const batch = Array.from({ length: 500 }, (_, k) =>
        producer.send(buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: `order-${i + k}` })),
      );
      for (const ack of await Promise.all(batch)) acked.push(ack.messageId);
    }
    await producer.close();
    await broker.kill('SIGKILL');
    broker = await broker.restart();

    // Messages parked for want of a consumer are due again as soon as the group's first consumer
    // connects, not at their recheck 60 s later (noGroupRecheckSec): a bound well below that fails
    // if any are left behind. (They were, until the file store's pageDue returned short pages
    // when deliveries finished messages while it read: recovery took a short page for the end.)
    const seen = new Set<string>();
    const all = countdown(total, 30_000, 'messages delivered after the restart');
    const consumer = new KiteQClient({
      registry,
      groupId: 's-rec',
      secretKey: 'k',
      bindings: [binding],
      listener: (m) => {
        if (!seen.has(m.header.messageId)) {
          seen.add(m.header.messageId);
          all.tick();
        }
        return true;
      },
    });
    clients.push(consumer);
    await consumer.start();
    await all.done;
    assert.deepEqual([...seen].sort(), [...acked].sort());
  });
});
