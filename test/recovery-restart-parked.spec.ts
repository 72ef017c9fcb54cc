// doc/delivery.md "Recovery manager", doc/file-store.md "Writes": a file:// broker restarted while
// messages are parked for an offline group re-drives none of them: the park (its recheck time) is
// written, so the startup scan finds them not due; and replays none of their records: the clean
// stop wrote the index (store/file/index-snapshot.ts).
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { directBinding } from '../binding/binding';
import { buildStringMessage, KiteQClient } from '../client';
import { Broker } from '../server/broker';
import { DEFAULT_CONFIG } from '../server/config';
import type { FileStore } from '../store/file';
import { tempDir } from './support/broker';
import { eventually } from './support/events';
import { captureLog } from './fixtures/fault/log-capture';
import { freePort } from './support/ports';
import { writeRegistryFile } from './support/registry-file';

const N = 2_000;

describe('recovery - a restart does not re-drive parked messages (file store)', function () {
  this.timeout(60_000);
  let dir: string;
  let broker: Broker | undefined;
  let producer: KiteQClient | undefined;

  afterEach(async () => {
    await producer?.close();
    await broker?.stop(500);
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds nothing due at start after parking messages for an offline group', async () => {
    dir = tempDir('kiteq-restart-parked-');
    const address = `127.0.0.1:${await freePort()}`;
    const registry = `file://${writeRegistryFile(dir, [{ address, topics: ['trade'] }], [directBinding('s-off', 'trade', 'pay-succ')])}`;
    const start = async (log = captureLog()) => {
      const b = new Broker(
        { ...DEFAULT_CONFIG, bind: address, registry, store: `file://${join(dir, 'data')}`, topics: ['trade'] },
        { log: log.log },
      );
      await b.start();
      return b;
    };

    broker = await start();
    producer = new KiteQClient({ registry, groupId: 'p-trade', secretKey: 'k', publishTopics: ['trade'] });
    await producer.start();
    for (let i = 0; i < N; i += 200) {
      await Promise.all(
        Array.from({ length: 200 }, () =>
          producer!.send(buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: 'x' })),
        ),
      );
    }
    const all = async () => broker!.store.pageDue({ dueBy: Number.MAX_SAFE_INTEGER, limit: N + 1, committed: true });
    await eventually(
      async () => {
        const page = await all();
        return (
          page.length === N &&
          page.every((m) => m.failGroups.length === 0 && m.nextDeliverTime > Date.now() / 1000 + 30)
        );
      },
      20_000,
      `${N} messages parked for the offline group`,
    );
    await producer.close();
    producer = undefined;
    await broker.stop(500);

    const log = captureLog();
    broker = await start(log);
    await eventually(() => !broker!.recoveryScanning, 20_000, 'the startup scan done');
    const redriven = log
      .find('recovery: re-drove due messages')
      .reduce((n: number, line: Record<string, unknown>) => n + (line.redriven as number), 0);
    assert.equal(redriven, 0, 'parked messages re-driven by the startup scan');
    // a clean stop left the index (doc/file-store.md "Recovery"): no record of the 2 × N (a message
    // and its park each) replayed
    const recovery = (broker.store as FileStore).recovery!;
    assert.deepEqual({ snapshot: recovery.snapshot, records: recovery.records }, { snapshot: true, records: 0 });
    assert.equal((await all()).length, N, 'all still stored');
    assert.deepEqual(
      await broker.store.pageDue({ dueBy: Math.floor(Date.now() / 1000), limit: 10, committed: true }),
      [],
    );
  });
});
