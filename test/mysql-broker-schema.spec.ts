// doc/architecture.md §8 at the broker level: `kiteq-server --init-schema` on a fresh database set creates the
// schema and serves (rows land in the table of their messageId's bucket); the dead-letter schedule
// runs once at start (not a day late) and then on its interval, or daily at dlqExecHour.
import assert from 'node:assert/strict';
import { directBinding } from '../binding/binding';
import { buildStringMessage, KiteQClient } from '../client';
import { Broker } from '../server/broker';
import { DEFAULT_CONFIG } from '../server/config';
import { msUntilHour, nextDelayMs } from '../server/dlq-mover';
import { silentLogger } from '../server/logger';
import { MysqlStore, parseMysqlUri } from '../store/mysql';
import { Sharding } from '../store/mysql/sharding';
import { rmSync, startBrokerProcess, tempDir, serverArgs } from './support/broker';
import { eventually } from './support/events';
import { withTestDatabase } from './support/mariadb';
import { aMessage } from './support/messages';
import { freePort } from './support/ports';
import { writeRegistryFile } from './support/registry-file';

describe('mysql broker - --init-schema and the dead-letter schedule', function () {
  this.timeout(60_000);
  const database = withTestDatabase();
  const dirs: string[] = [];
  after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  async function registryFor(bindings = [directBinding('s-none', 'trade', 'never-published')]) {
    const dir = tempDir();
    dirs.push(dir);
    const address = `127.0.0.1:${await freePort()}`;
    return { address, registry: `file://${writeRegistryFile(dir, [{ address, topics: ['trade'] }], bindings)}` };
  }

  it('--init-schema creates the databases and tables, and the broker serves from them', async () => {
    const { db, sql, uri } = database.current;
    const { address, registry } = await registryFor();
    const broker = await startBrokerProcess([
      ...serverArgs({ bind: address, registry, store: uri(), topics: 'trade' }),
      '--init-schema',
    ]);
    try {
      assert.match(broker.log, /--init-schema: databases and tables created/);
      const [rows] = await sql.query(
        `SELECT table_schema AS s, table_name AS t FROM information_schema.tables WHERE table_schema LIKE ? ORDER BY s, t`,
        [`${db}\\_%`],
      );
      const tables = (rows as { s: string; t: string }[]).map((r) => `${r.s}.${r.t}`);
      const expected = [0, 1, 2, 3].flatMap((k) =>
        ['kite_msg_0', 'kite_msg_1', 'kite_msg_2', 'kite_msg_3', 'kite_msg_dlq'].map((t) => `${db}_${k}.${t}`),
      );
      assert.deepEqual(tables, expected);

      const producer = new KiteQClient({ registry, groupId: 'p-trade', secretKey: 'k', publishTopics: ['trade'] });
      await producer.start();
      try {
        const sharding = new Sharding(db, 4);
        for (let i = 0; i < 16; i++) {
          const messageId = `${'c0ffee'.repeat(5)}${i.toString(16).padStart(2, '0')}`; // every bucket: last hex digit
          const message = buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: `m-${i}`, messageId });
          await producer.send(message);
          const table = sharding.tableFor(message.header.messageId);
          const [found] = await sql.query(`SELECT kite_server AS k FROM ${table.qualified} WHERE message_id = ?`, [
            message.header.messageId,
          ]);
          assert.deepEqual(found, [{ k: address }], `message ${i} in ${table.qualified}`);
        }
      } finally {
        await producer.close();
      }
    } finally {
      await broker.kill('SIGKILL');
    }
  });

  it('moves expired messages to the dead letters at start, then on its interval', async () => {
    const { address, registry } = await registryFor([]);
    const now = Math.floor(Date.now() / 1000);
    // Left by an earlier run of this broker: expired when it starts, and not due for delivery (so the
    // recovery scan, which would dead-letter it too, leaves it to the schedule).
    const seed = new MysqlStore(parseMysqlUri(database.current.uri()), { serverName: address });
    await seed.start();
    const stale = { ...aMessage({ expiredTime: now - 5 }), kiteServer: address, nextDeliverTime: now + 3600 };
    await seed.save(stale);
    await seed.stop();

    const broker = new Broker(
      {
        ...DEFAULT_CONFIG,
        bind: address,
        registry,
        store: database.current.uri(),
        topics: ['trade'],
        dlqIntervalMs: 300,
        recoverIntervalMs: 60_000,
      },
      { log: silentLogger() },
    );
    await broker.start();
    const producer = new KiteQClient({ registry, groupId: 'p-trade', secretKey: 'k', publishTopics: ['trade'] });
    try {
      const dead = async (id: string) =>
        (await broker.listDeadLetters({ topic: 'trade', limit: 100 })).find((d) => d.message.header.messageId === id);
      const first = (await eventually(
        () => dead(stale.header.messageId),
        5000,
        'the stale message moved by the run at start',
      ))!;
      assert.equal(first.reason, 'expired');

      // No group is bound, so it is kept (doc/architecture.md §6) until it expires; then the next run moves it.
      await producer.start();
      const soon = buildStringMessage({
        topic: 'trade',
        messageType: 'pay-succ',
        body: 'expires soon',
        expiredTime: now + 2,
      });
      await producer.send(soon);
      assert.equal(await dead(soon.header.messageId), undefined, 'not before it expires');
      const later = (await eventually(
        () => dead(soon.header.messageId),
        10_000,
        'the expired message moved by a later run',
        100,
      ))!;
      assert.equal(later.reason, 'expired');
      assert.deepEqual(await broker.store.countsByTopic(), {}, 'nothing left live');
    } finally {
      await producer.close();
      await broker.stop(500);
    }
  });

  it('computes the daily run at dlqExecHour (local time), and the interval otherwise', () => {
    const at = (h: number, m = 0) => new Date(2024, 5, 10, h, m, 0, 0).getTime();
    assert.equal(msUntilHour(at(1, 30), 2), 30 * 60_000, 'later today');
    assert.equal(msUntilHour(at(2, 0), 2), 24 * 3600_000, 'at the hour: the next day, not twice');
    assert.equal(msUntilHour(at(3, 0), 2), 23 * 3600_000, 'past it: tomorrow');
    assert.equal(nextDelayMs(at(3, 0), { intervalMs: 5000 }), 5000);
    assert.equal(nextDelayMs(at(23, 0), { intervalMs: 5000, dailyHour: 0 }), 3600_000);
  });
});
