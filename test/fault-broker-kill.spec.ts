// Fault suite: the broker (a child process) is killed with SIGKILL at 5 random points
// while 4 producers stream, and restarted on the same address each time. Every message that got
// a true store-ack must be delivered (lost = 0); duplicates are allowed (at-least-once) and counted.
// File store (fsync=batch) and MySQL store.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { type ChildBroker, startChildBroker } from './fixtures/fault/harness';
import { STREAM_BINDING, startStream, type Stream } from './fixtures/fault/stream';
import { tempDir } from './support/broker';
import { eventually } from './support/events';
import { freshTestDatabase, type TestDatabase } from './support/mariadb';

const KILLS = 5;

const backends: { name: string; store: (dir: string, db: TestDatabase | null) => string; mysql: boolean }[] = [
  { name: 'file store', store: (dir) => `file://${join(dir, 'data')}?fsync=batch&segmentBytes=1048576`, mysql: false },
  { name: 'mysql store', store: (_dir, db) => db!.uri(), mysql: true },
];

for (const backend of backends) {
  describe(`fault - broker SIGKILL x${KILLS} during a 4-producer stream (${backend.name})`, function () {
    this.timeout(180_000);
    let dir: string;
    let db: TestDatabase | null = null;
    let broker: ChildBroker;
    let stream: Stream | undefined;

    before(async () => {
      dir = tempDir('kiteq-fault-kill-');
      if (backend.mysql) db = await freshTestDatabase();
      broker = await startChildBroker({
        dir,
        store: backend.store(dir, db),
        bindings: [STREAM_BINDING],
        args: ['--recover-interval-ms', '1000'],
      });
    });
    after(async () => {
      await stream?.close();
      await broker?.process.kill('SIGKILL');
      await db?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('delivers every store-acked message (lost = 0)', async () => {
      stream = await startStream({ registry: broker.registryUri, producers: 4, window: 8 });
      const killedAtAcked: number[] = [];
      for (let k = 0; k < KILLS; k++) {
        // a random point: after 300..1500 more acks
        const target = stream.figures.acked.size + 300 + Math.floor(Math.random() * 1200);
        await eventually(() => stream!.figures.acked.size >= target, 30_000, `${target} acks before kill ${k + 1}`, 5);
        killedAtAcked.push(stream.figures.acked.size);
        await broker.process.kill('SIGKILL');
        broker = { ...broker, process: await broker.process.restart() };
      }
      const progress = stream.figures.acked.size;
      await eventually(
        () => stream!.figures.acked.size > progress + 200,
        30_000,
        'publishing resumes after the last restart',
        5,
      );
      await stream.stop();
      const { figures } = stream;
      await eventually(
        () => figures.allAckedDelivered(),
        90_000,
        `every acked message delivered (${figures.lost.length} missing)`,
        200,
      );
      figures.print(`broker-kill-${backend.mysql ? 'mysql' : 'file'}`, {
        kills: KILLS,
        killedAtAcked,
        refusals: Object.fromEntries(stream.refusals),
      });
      assert.equal(figures.lost.length, 0);
      assert.ok(figures.acked.size > 2000, `the stream made progress (${figures.acked.size} acked)`);
    });
  });
}
