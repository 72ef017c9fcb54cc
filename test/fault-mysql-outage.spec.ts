// Fault suite: MariaDB unreachable mid-stream, at broker level. The broker (child
// process) reaches MariaDB through a local TCP proxy (test/support/mariadb.ts MariaDbProxy); the
// proxy goes down for 4 s and comes back. The shared MariaDB server itself is never stopped.
// While down: false store-acks (retriable reason); afterwards: every acked message delivered.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { type ChildBroker, startChildBroker } from './fixtures/fault/harness';
import { STREAM_BINDING, startStream, type Stream } from './fixtures/fault/stream';
import { tempDir } from './support/broker';
import { eventually } from './support/events';
import { freshTestDatabase, MariaDbProxy, type TestDatabase } from './support/mariadb';

describe('fault - MariaDB unreachable for 4 s mid-stream (mysql store)', function () {
  this.timeout(120_000);
  let dir: string;
  let db: TestDatabase;
  let proxy: MariaDbProxy;
  let broker: ChildBroker;
  let stream: Stream | undefined;

  before(async () => {
    dir = tempDir('kiteq-fault-mysql-');
    db = await freshTestDatabase();
    proxy = await MariaDbProxy.start();
    broker = await startChildBroker({
      dir,
      store: db.uri({}, proxy.hostPort),
      bindings: [STREAM_BINDING],
      args: ['--recover-interval-ms', '1000'],
    });
  });
  after(async () => {
    await stream?.close();
    await broker?.process.kill('SIGKILL');
    await proxy?.down();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers false while MariaDB is away, and delivers every acked message once it is back', async () => {
    stream = await startStream({ registry: broker.registryUri, producers: 4, window: 4 });
    const { figures } = stream;
    await eventually(() => figures.acked.size >= 1000, 30_000, '1000 acks before the outage', 5);
    const ackedBefore = figures.acked.size;
    await proxy.down();
    const downAt = Date.now();
    await eventually(() => figures.refused >= 20, 20_000, 'refusals while MariaDB is away', 20);
    await new Promise((r) => setTimeout(r, Math.max(0, 4000 - (Date.now() - downAt)))); // the outage lasts 4 s
    const ackedDuring = figures.acked.size - ackedBefore;
    await proxy.listen();
    const back = figures.acked.size;
    await eventually(() => figures.acked.size >= back + 1000, 60_000, '1000 more acks after MariaDB is back', 20);
    await stream.stop();
    await eventually(
      () => figures.allAckedDelivered(),
      60_000,
      `every acked message delivered (${figures.lost.length} missing)`,
      200,
    );
    figures.print('mysql-outage', {
      ackedBefore,
      ackedDuringOutage: ackedDuring,
      refusals: Object.fromEntries(stream.refusals),
    });
    assert.equal(figures.lost.length, 0);
    assert.ok(
      [...stream.refusals.keys()].some((r) => /Store Unavailable/.test(r)),
      `a retriable "Store Unavailable" reason: ${[...stream.refusals.keys()].join(' | ')}`,
    );
    assert.equal(broker.process.child.exitCode, null);
  });
});
