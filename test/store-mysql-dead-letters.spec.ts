// mysql:// dead letters (doc/architecture.md §6: kept, queryable, re-drivable): deadLetter keeps the reason in
// kite_msg_dlq; moveExpiredToDlq moves this broker's rows past deliverLimit or expiredTime in bounded runs.
import assert from 'node:assert/strict';
import { DuplicateMessageError } from '../store/errors';
import { MysqlStore, parseMysqlUri } from '../store/mysql';
import { aMessage } from './support/messages';
import { withTestDatabase } from './support/mariadb';

const ME = '127.0.0.1:13800';
const NOW = Math.floor(Date.now() / 1000);

describe('mysql store dead letters - moved, listed, redriven', function () {
  this.timeout(60_000);
  const database = withTestDatabase();
  let store: MysqlStore;

  before(async () => {
    store = new MysqlStore(parseMysqlUri(database.current.uri()), { serverName: ME });
    await store.start();
  });
  after(async () => {
    await store?.stop();
  });

  it('keeps the reason of deadLetter in the dlq row of the same database', async () => {
    const message = aMessage({ messageId: 'ab'.repeat(15) + '0e', topic: 'dlq-reason' });
    await store.save(message);
    await store.deadLetter(message.header.messageId, 'tx check limit reached');
    const [rows] = await database.current.sql.query(
      `SELECT dead_reason AS reason, dead_time AS t FROM \`${database.current.db}_3\`.kite_msg_dlq WHERE message_id = ?`,
      [message.header.messageId],
    );
    const [row] = rows as { reason: string; t: number }[];
    assert.equal(row.reason, 'tx check limit reached');
    assert.ok(Math.abs(Number(row.t) - Math.floor(Date.now() / 1000)) < 60, 'dead_time is the time of the move');
    const [letter] = await store.listDeadLetters({ topic: 'dlq-reason', limit: 10 });
    assert.equal(letter.reason, 'tx check limit reached');
    assert.deepEqual(letter.message, message);
    assert.deepEqual(await store.get(message.header.messageId), message);
    await assert.rejects(store.save(message), DuplicateMessageError, 'a dead letter still holds its id');
  });

  it('moves only overdue rows of this broker, in bounded runs, with the reason', async () => {
    const expired = Array.from({ length: 30 }, () => aMessage({ topic: 'overdue', expiredTime: NOW - 10 }));
    const spent = Array.from({ length: 30 }, () => ({
      ...aMessage({ topic: 'overdue', deliverLimit: 3 }),
      deliverCount: 3,
    }));
    const healthy = Array.from({ length: 10 }, () => aMessage({ topic: 'overdue' }));
    const otherBroker = { ...aMessage({ topic: 'overdue', expiredTime: NOW - 10 }), kiteServer: '10.9.9.9:13800' };
    await store.saveBatch([...expired, ...spent, ...healthy, otherBroker]);

    assert.equal(await store.moveExpiredToDlq(NOW, 25), 25, 'a run stops at its limit');
    assert.equal(await store.moveExpiredToDlq(NOW, 1000), 35);
    assert.equal(await store.moveExpiredToDlq(NOW, 1000), 0);

    const letters = await store.listDeadLetters({ topic: 'overdue', limit: 1000 });
    const reasons = new Map(letters.map((l) => [l.message.header.messageId, l.reason]));
    assert.equal(letters.length, 60);
    for (const m of expired) assert.equal(reasons.get(m.header.messageId), 'expired');
    for (const m of spent) assert.equal(reasons.get(m.header.messageId), 'deliver limit reached');
    assert.equal((await store.countsByTopic()).overdue, 10);
    assert.equal((await store.get(otherBroker.header.messageId))?.kiteServer, '10.9.9.9:13800');
  });

  it('pages the dead letters by id over every database, and redrives one to this broker', async () => {
    const all = await store.listDeadLetters({ topic: 'overdue', limit: 1000 });
    const paged: string[] = [];
    let afterId: string | undefined;
    for (;;) {
      const page = await store.listDeadLetters({ topic: 'overdue', afterId, limit: 7 });
      paged.push(...page.map((l) => l.message.header.messageId));
      if (page.length < 7) break;
      afterId = page[page.length - 1].message.header.messageId;
    }
    assert.deepEqual(
      paged,
      all.map((l) => l.message.header.messageId),
    );
    assert.deepEqual(paged, [...paged].sort());

    const back = await store.redrive(paged[0], NOW);
    assert.deepEqual([back?.deliverCount, back?.nextDeliverTime, back?.kiteServer], [0, NOW, ME]);
    assert.equal((await store.listDeadLetters({ topic: 'overdue', limit: 1000 })).length, 59);
    assert.equal(await store.redrive(paged[0], NOW), undefined);
  });
});
