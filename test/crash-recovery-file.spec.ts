// Issue 4 / doc/architecture.md §8: with the file store, a broker killed with SIGKILL at random moments while
// 4 producers send loses no message that got a true store-ack; a rolled-back message never
// reappears. Duplicates (acked by the consumer but not yet recorded as done) are counted.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { directBinding } from '../binding/binding';
import { buildStringMessage, KiteQClient } from '../client';
import { startBrokerProcess, tempDir, type BrokerProcess, serverArgs } from './support/broker';
import { eventually } from './support/events';
import { freePort } from './support/ports';
import { writeRegistryFile } from './support/registry-file';

const PRODUCERS = 4;
const MESSAGES = 50_000;
const WINDOW = 25;

describe('crash recovery - file store, broker killed with SIGKILL mid-stream', function () {
  this.timeout(240_000);
  let dir: string;
  let broker: BrokerProcess;
  const clients: KiteQClient[] = [];

  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await broker?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers every store-acked message after each of three restarts, and no rolled-back one', async () => {
    dir = tempDir('kiteq-crash-');
    const address = `127.0.0.1:${await freePort()}`;
    const registry = `file://${writeRegistryFile(dir, [{ address, topics: ['trade'] }], [directBinding('s-mc', 'trade', 'pay-succ', { watermark: 100_000 })])}`;
    const args = [
      ...serverArgs({
        bind: address,
        registry,
        store: `file://${join(dir, 'data')}?fsync=batch`,
        topics: 'trade',
      }),
      '--tx-check-age-sec',
      '1',
      '--tx-check-interval-sec',
      '1',
      '--log-level',
      'warn',
    ];
    broker = await startBrokerProcess(args);

    const receivedCount = new Map<string, number>();
    const consumer = new KiteQClient({
      registry,
      groupId: 's-mc',
      secretKey: 'k',
      bindings: [directBinding('s-mc', 'trade', 'pay-succ')],
      listener: (m) => {
        receivedCount.set(m.header.messageId, (receivedCount.get(m.header.messageId) ?? 0) + 1);
        return true;
      },
    });
    clients.push(consumer);
    const rolledBack = new Set<string>();
    // Every 10th message is transactional and rolled back; after a crash the broker asks, and
    // the answer is still rollback.
    const producers = Array.from(
      { length: PRODUCERS },
      () =>
        new KiteQClient({
          registry,
          groupId: 'p-trade',
          secretKey: 'k',
          publishTopics: ['trade'],
          txCheckListener: (m) => (rolledBack.has(m.header.messageId) ? 'rollback' : 'commit'),
          sendRetry: { retries: 8, initialDelayMs: 100, maxDelayMs: 1000 },
        }),
    );
    clients.push(...producers);
    await Promise.all([consumer.start(), ...producers.map((p) => p.start())]);

    const acked = new Set<string>();
    let failed = 0;
    let next = 0;
    const killPoints = [0.15, 0.45, 0.75].map((f) => Math.floor(MESSAGES * (f + Math.random() * 0.1)));
    let restarting: Promise<void> | null = null;
    const lane = async (producer: KiteQClient) => {
      while (next < MESSAGES) {
        const i = next++;
        if (killPoints.includes(i)) {
          restarting = (async () => {
            await broker.kill('SIGKILL');
            broker = await broker.restart();
          })();
        }
        const message = buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: `order-${i}` });
        try {
          if (i % 10 === 0) {
            rolledBack.add(message.header.messageId);
            await producer.sendTxMessage(message, () => false);
          } else {
            const ack = await producer.send(message);
            acked.add(ack.messageId);
          }
        } catch {
          failed++; // refused or unanswered while the broker was down: not acked, not owed
        }
      }
    };
    await Promise.all(producers.flatMap((p) => Array.from({ length: WINDOW }, () => lane(p))));
    await restarting;

    const missing = () => [...acked].filter((id) => !receivedCount.has(id));
    await eventually(
      () => missing().length === 0,
      60_000,
      `every acked message delivered (${missing().length} missing)`,
      200,
    );
    const duplicates = [...receivedCount.values()].reduce((n, c) => n + c - 1, 0);
    const resurrected = [...rolledBack].filter((id) => receivedCount.has(id));
    console.log(
      `      figures: sent ${MESSAGES}, acked ${acked.size}, failed ${failed}, rolled back ${rolledBack.size}, received ${receivedCount.size}, duplicates ${duplicates}, kills at ${killPoints.join('/')}`,
    );
    assert.deepEqual(resurrected, [], 'no rolled-back message is delivered');
    assert.ok(acked.size >= MESSAGES * 0.8, `most sends were acked (${acked.size})`);
    assert.ok(duplicates < MESSAGES * 0.05, `duplicates stay a small share (${duplicates})`);
  });
});
