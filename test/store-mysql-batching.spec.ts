// mysql:// write batching (doc/architecture.md §8, §12: KiteQ writes row by row): concurrent callers share
// multi-row statements, a duplicate rejects only itself, and a message's operations keep their order.
import assert from 'node:assert/strict';
import { DuplicateMessageError, StoreError } from '../store/errors';
import { MysqlStore, parseMysqlUri } from '../store/mysql';
import { aMessage } from './support/messages';
import { connectMariaDb, withTestDatabase } from './support/mariadb';

async function globalStatus(sql: import('mysql2/promise').Connection, name: string): Promise<number> {
  const [rows] = await sql.query('SHOW GLOBAL STATUS LIKE ?', [name]);
  return Number((rows as { Value: string }[])[0].Value);
}

describe('mysql store batching - many concurrent callers', function () {
  this.timeout(60_000);
  const database = withTestDatabase();
  let store: MysqlStore;

  beforeEach(async () => {
    store = new MysqlStore(parseMysqlUri(database.current.uri()), { serverName: '127.0.0.1:13800' });
    await store.start();
  });
  afterEach(async () => {
    await store.stop();
  });

  it('stores 1,000 concurrent saves with far fewer INSERT statements than rows', async () => {
    const messages = Array.from({ length: 1000 }, (_, i) => aMessage({}, `body ${i}`));
    const before = store.statementCounts();
    const serverInsertsBefore = await globalStatus(database.current.sql, 'Com_insert');
    await Promise.all(messages.map((m) => store.save(m)));
    const after = store.statementCounts();
    const serverInserts = (await globalStatus(database.current.sql, 'Com_insert')) - serverInsertsBefore;
    const inserts = after.insertStatements - before.insertStatements;
    assert.equal(after.rowsInserted - before.rowsInserted, 1000);
    assert.ok(inserts <= 64, `${inserts} INSERT statements for 1,000 rows`);
    // The server agrees (other suites may insert meanwhile, so allow some slack, still far below 1,000).
    assert.ok(serverInserts < 200, `server counted ${serverInserts} INSERTs`);
    const counts = await store.countsByTopic();
    assert.equal(counts.trade, 1000);
    for (const m of messages.slice(0, 20)) assert.equal((await store.get(m.header.messageId))?.body, m.body);
  });

  it('batches delivery results and deletes the same way', async () => {
    const messages = Array.from({ length: 500 }, () => aMessage({ topic: 'batching-updates' }));
    await store.saveBatch(messages);
    const before = store.statementCounts();
    await Promise.all(
      messages.map((m) =>
        store.recordDelivery(m.header.messageId, {
          succGroups: ['a'],
          failGroups: ['b'],
          deliverCount: 1,
          nextDeliverTime: 7,
        }),
      ),
    );
    await Promise.all(messages.map((m) => store.delete(m.header.messageId)));
    const after = store.statementCounts();
    assert.equal(after.rowsUpdated - before.rowsUpdated, 500);
    assert.equal(after.rowsDeleted - before.rowsDeleted, 500);
    assert.ok(after.updateStatements - before.updateStatements <= 40, 'UPDATE statements');
    assert.ok(after.deleteStatements - before.deleteStatements <= 40, 'DELETE statements');
    assert.equal((await store.countsByTopic())['batching-updates'], undefined);
  });

  it('rejects only the duplicate in a batch that also holds new messages', async () => {
    const first = aMessage({}, 'first');
    await store.save(first);
    const fresh = Array.from({ length: 30 }, () => aMessage());
    const duplicate = aMessage({ messageId: first.header.messageId }, 'second');
    const results = await Promise.allSettled([...fresh, duplicate].map((m) => store.save(m)));
    assert.ok(results.slice(0, 30).every((r) => r.status === 'fulfilled'));
    const last = results[30];
    assert.ok(last.status === 'rejected' && last.reason instanceof DuplicateMessageError);
    assert.equal((await store.get(first.header.messageId))?.body, 'first');
  });

  it('rejects only a dead-lettered id in a batch of new saves to its table', async () => {
    // one table (bucket = the id's last hex digit), so the saves share the batch with the duplicate
    const id = (n: number) => n.toString(16).padStart(31, '0') + '7';
    const dead = aMessage({ messageId: id(1) }, 'dead');
    await store.save(dead);
    await store.deadLetter(dead.header.messageId, 'test'); // moved: only the dead-letter table has the id
    const fresh = Array.from({ length: 30 }, (_, i) => aMessage({ messageId: id(100 + i) }));
    const again = aMessage({ messageId: dead.header.messageId }, 'again');
    const results = await Promise.allSettled([...fresh, again].map((m) => store.save(m)));
    assert.deepEqual(
      results.slice(0, 30).map((r) => r.status),
      Array(30).fill('fulfilled'),
    );
    const last = results[30];
    assert.ok(last.status === 'rejected' && last.reason instanceof DuplicateMessageError);
    for (const m of fresh) assert.equal((await store.get(m.header.messageId))?.body, 'hello');
  });

  it('replays a refused batch op by op, so only the refused save fails', async () => {
    const good = Array.from({ length: 20 }, () => aMessage());
    const tooLong = aMessage({ topic: 't'.repeat(300) }); // topic is varchar(255), and the server is strict
    const before = store.statementCounts();
    const results = await Promise.allSettled([...good, tooLong].map((m) => store.save(m)));
    assert.ok(results.slice(0, 20).every((r) => r.status === 'fulfilled'));
    const refused = results[20];
    assert.ok(refused.status === 'rejected' && refused.reason instanceof StoreError && !refused.reason.retriable);
    assert.match((refused as PromiseRejectedResult).reason.message, /MySQL error .*Data too long/);
    assert.ok(store.statementCounts().insertStatements - before.insertStatements > 1);
    for (const m of good) assert.ok(await store.get(m.header.messageId));
    assert.equal(await store.get(tooLong.header.messageId), undefined);
  });

  it('never lets an update or delete overtake its own save, nor a save its delete', async () => {
    const messages = Array.from({ length: 200 }, () => aMessage());
    // Called back to back without awaiting: the save, its delivery result and, for half, the delete.
    const calls: Promise<unknown>[] = [];
    messages.forEach((m, i) => {
      calls.push(store.save(m));
      calls.push(
        store.recordDelivery(m.header.messageId, {
          succGroups: ['g'],
          failGroups: [],
          deliverCount: 1,
          nextDeliverTime: 9,
        }),
      );
      if (i % 2 === 0) calls.push(store.delete(m.header.messageId));
    });
    // ...and one id saved again right after its delete.
    const reborn = messages[0];
    calls.push(store.save({ ...reborn, body: 'again' }));
    await Promise.all(calls);
    for (const [i, m] of messages.entries()) {
      const stored = await store.get(m.header.messageId);
      if (i === 0) assert.equal(stored?.body, 'again');
      else if (i % 2 === 0) assert.equal(stored, undefined);
      else assert.deepEqual([stored?.succGroups, stored?.nextDeliverTime], [['g'], 9]);
    }
  });

  it('answers a lone save within one round of statements', async () => {
    const started = performance.now();
    await store.save(aMessage());
    const warm = performance.now() - started;
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) await store.save(aMessage());
    const perSave = (performance.now() - t0) / 20;
    assert.ok(perSave < 25, `a lone save took ${perSave.toFixed(1)} ms (first ${warm.toFixed(1)} ms)`);
  });

  it('writes the waiting operations of many tables in one transaction', async () => {
    // one id per bucket: 16 buckets over the 16 tables of shardnum=4, saved in the same turn
    const messages = Array.from({ length: 16 }, (_, b) =>
      aMessage({ messageId: `${'c'.repeat(31)}${b.toString(16)}` }),
    );
    await store.save(aMessage()); // the pool's first connection is open
    const before = store.statementCounts();
    await Promise.all(messages.map((m) => store.save(m)));
    const after = store.statementCounts();
    assert.equal(after.rowsInserted - before.rowsInserted, 16);
    assert.equal(after.insertStatements - before.insertStatements, 16, 'one INSERT per table');
    assert.ok(after.flushes - before.flushes <= 2, `${after.flushes - before.flushes} transactions for 16 tables`);
    await Promise.all(messages.map((m) => store.delete(m.header.messageId)));
    assert.ok(store.statementCounts().flushes - after.flushes <= 2, 'the deletes share a transaction too');
    for (const m of messages) assert.equal(await store.get(m.header.messageId), undefined);
  });

  it('holds plain deletes back to go together, one DELETE per table, while a read of a deleted id waits for nothing', async () => {
    // two ids per bucket: 16 buckets over the 16 tables of shardnum=4
    const messages = Array.from({ length: 32 }, (_, i) =>
      aMessage({ messageId: `${'f'.repeat(30)}${(i >> 4).toString(16)}${(i & 15).toString(16)}` }),
    );
    await Promise.all(messages.map((m) => store.save(m)));
    const before = store.statementCounts();
    const firstWave = messages.slice(0, 16).map((m) => store.delete(m.header.messageId));
    // a batch that may leave goes within a turn or two of the event loop; these deletes wait
    for (let turn = 0; turn < 3; turn++) await new Promise(setImmediate);
    assert.equal(store.statementCounts().flushes, before.flushes, 'a plain delete waits');
    const secondWave = messages.slice(16).map((m) => store.delete(m.header.messageId));
    await Promise.all([...firstWave, ...secondWave]);
    const after = store.statementCounts();
    assert.equal(after.rowsDeleted - before.rowsDeleted, 32);
    assert.equal(after.deleteStatements - before.deleteStatements, 16, 'one DELETE per table for both waves');

    // a read of the id (and the recovery scan's barrier) lets the waiting deletes go at once
    const last = aMessage();
    await store.save(last);
    const deleting = store.delete(last.header.messageId);
    assert.equal(await store.get(last.header.messageId), undefined);
    await deleting;
  });

  it("sends a table's next batch while its flush is in flight, holding back only the same id's operations", async () => {
    const held = aMessage({ messageId: `${'d'.repeat(31)}3` });
    await store.save(held);
    const table = store.sharding.tableFor(held.header.messageId);
    const locker = await connectMariaDb();
    try {
      // Another session locks the row (that row alone: by its index), so the flush of its delivery
      // result waits inside MariaDB.
      await locker.query('BEGIN');
      await locker.query(
        `SELECT message_id FROM ${table.qualified} FORCE INDEX (idx_message_id) WHERE message_id = ? FOR UPDATE`,
        [held.header.messageId],
      );
      const flushesBefore = store.statementCounts().flushes;
      const result = (group: string) => ({ succGroups: [group], failGroups: [], deliverCount: 1, nextDeliverTime: 9 });
      const first = store.recordDelivery(held.header.messageId, result('first'));
      while (store.statementCounts().flushes === flushesBefore) await new Promise(setImmediate);
      const second = store.recordDelivery(held.header.messageId, result('second'));

      const sameTable = aMessage({ messageId: `${'e'.repeat(31)}3` });
      assert.equal(store.sharding.tableFor(sameTable.header.messageId), table);
      const started = performance.now();
      await store.save(sameTable); // the same table, another id, a free connection
      const tookMs = performance.now() - started;
      // the held id's second update is not sent while its first is in flight
      assert.equal(store.statementCounts().flushes, flushesBefore + 2);
      await locker.query('ROLLBACK');
      await Promise.all([first, second]);
      assert.ok(tookMs < 2000, `the save waited ${tookMs.toFixed(0)} ms behind its table's flush`);
      assert.deepEqual((await store.get(held.header.messageId))?.succGroups, ['second']);
      assert.ok(await store.get(sameTable.header.messageId));
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      await locker.end();
    }
  });

  it("sends a batch at once while another table's flush is in flight (no waiting for flushMs)", async () => {
    // flushMs (a linger while other flushes ran) is no longer read: an old URI's value changes nothing.
    const slow = new MysqlStore(parseMysqlUri(database.current.uri({ flushMs: 5000, queryTimeoutMs: 20_000 })), {
      serverName: '127.0.0.1:13800',
    });
    await slow.start();
    const locker = await connectMariaDb();
    try {
      const held = aMessage({ messageId: `${'a'.repeat(31)}0` });
      await slow.save(held);
      // Another session locks the row, so the next flush of its table waits inside MariaDB.
      await locker.query('BEGIN');
      await locker.query(
        `SELECT message_id FROM ${slow.sharding.tableFor(held.header.messageId).qualified} WHERE message_id = ? FOR UPDATE`,
        [held.header.messageId],
      );
      const flushesBefore = slow.statementCounts().flushes;
      const blocked = slow.recordDelivery(held.header.messageId, {
        succGroups: ['g'],
        failGroups: [],
        deliverCount: 1,
        nextDeliverTime: 9,
      });
      while (slow.statementCounts().flushes === flushesBefore) await new Promise(setImmediate);

      const started = performance.now();
      await slow.save(aMessage({ messageId: `${'b'.repeat(31)}1` })); // another table, a free connection
      const tookMs = performance.now() - started;
      await locker.query('ROLLBACK');
      await blocked;
      assert.ok(tookMs < 2000, `the save waited ${tookMs.toFixed(0)} ms behind another table's flush`);
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      await locker.end();
      await slow.stop();
    }
  });
});
