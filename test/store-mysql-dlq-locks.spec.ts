// mysql:// housekeeping never refuses a publish (doc/mysql-store.md "Dead letters"): the dead-letter
// mover locks only rows it moves, so it never waits on (or deadlocks with) a writer holding rows that
// are not overdue; and a flush that InnoDB picks as a deadlock victim is run again at once.
import assert from 'node:assert/strict';
import type { Connection } from 'mysql2/promise';
import { MysqlStore, parseMysqlUri } from '../store/mysql';
import { aMessage, newMessageId } from './support/messages';
import { connectMariaDb, withTestDatabase } from './support/mariadb';

const ME = '127.0.0.1:13800';
const NOW = Math.floor(Date.now() / 1000);

/** A message in `<db>_0`.kite_msg_<bucket> (shardnum=4: the last hex digit of the id is the bucket). */
function inTable(bucket: 0 | 1, overrides: Parameters<typeof aMessage>[0] = {}) {
  const messageId = newMessageId().slice(0, -1) + String(bucket);
  return { ...aMessage({ messageId, topic: 'locks', ...overrides }), kiteServer: ME };
}

/** Resolves once a session is running an UPDATE of `table` (the flush, blocked by a row lock). */
async function updateRunsOn(sql: Connection, table: string): Promise<void> {
  for (;;) {
    const [rows] = await sql.query('SELECT COUNT(*) AS n FROM information_schema.processlist WHERE info LIKE ?', [
      `UPDATE ${table} %`,
    ]);
    if (Number((rows as { n: number }[])[0].n) > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('mysql store dead-letter mover and writer - no lock waits, no refused publish', function () {
  this.timeout(60_000);
  const database = withTestDatabase();
  let store: MysqlStore;
  let other: Connection;
  let table: string;

  before(async () => {
    store = new MysqlStore(parseMysqlUri(database.current.uri()), { serverName: ME });
    await store.start();
    other = await connectMariaDb();
    table = `\`${database.current.db}_0\`.\`kite_msg_0\``;
  });
  after(async () => {
    await other?.end();
    await store?.stop();
  });

  it('moves the overdue rows while another transaction holds every row that is not overdue', async () => {
    const healthy = Array.from({ length: 40 }, () => inTable(0));
    const expired = Array.from({ length: 30 }, () => inTable(0, { expiredTime: NOW - 10 }));
    await store.saveBatch([...healthy, ...expired]);

    await other.query('BEGIN');
    try {
      await other.query(`SELECT message_id FROM ${table} WHERE message_id IN (?) FOR UPDATE`, [
        healthy.map((m) => m.header.messageId),
      ]);
      assert.equal(await store.moveExpiredToDlq(NOW, 1000), 30);
    } finally {
      await other.query('ROLLBACK');
    }
    assert.equal((await store.countsByTopic()).locks, 40);
    assert.equal((await store.listDeadLetters({ topic: 'locks', limit: 100 })).length, 30);
  });

  it('runs a flush that InnoDB chose as a deadlock victim again, so its publish is stored', async () => {
    const held = inTable(0);
    const heavy = Array.from({ length: 50 }, () => inTable(1));
    await store.saveBatch([held, ...heavy]);

    // The other transaction modifies many rows elsewhere (so InnoDB picks the flush, the lighter one,
    // as the victim) and holds `held`.
    await other.query('BEGIN');
    try {
      await other.query(
        `UPDATE \`${database.current.db}_0\`.kite_msg_1 SET check_count = check_count + 1 WHERE message_id IN (?)`,
        [heavy.map((m) => m.header.messageId)],
      );
      await other.query(`SELECT message_id FROM ${table} WHERE message_id = ? FOR UPDATE`, [held.header.messageId]);

      // One batch: the insert of `published` goes first, then the update of `held` waits for its lock.
      const published = inTable(0);
      const flushed = Promise.allSettled([store.save(published), store.recordCheck(held.header.messageId, 1, NOW)]);
      await updateRunsOn(database.current.sql, table);

      // Now the other transaction wants the flush's new row: a deadlock, the flush is the victim.
      await other.query(`SELECT message_id FROM ${table} WHERE message_id = ? FOR UPDATE`, [
        published.header.messageId,
      ]);
      await other.query('COMMIT');

      for (const outcome of await flushed) {
        if (outcome.status === 'rejected') assert.fail(`the publish was refused: ${String(outcome.reason)}`);
      }
      assert.equal((await store.get(published.header.messageId))?.header.messageId, published.header.messageId);
      assert.equal((await store.get(held.header.messageId))?.checkCount, 1);
    } finally {
      await other.query('ROLLBACK');
    }
  });
});
