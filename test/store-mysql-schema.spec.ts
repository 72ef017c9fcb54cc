// mysql:// schema and shard routing (doc/architecture.md §8): KiteQ's databases, tables, columns and the recovery
// index exist after createSchema(), and a message lands in the table KiteQ would put it in.
import assert from 'node:assert/strict';
import { encodeHeader } from '../protocol/messages/header';
import type { MessageStore } from '../store/contract';
import { MysqlStore, parseMysqlUri } from '../store/mysql';
import { aMessage, newMessageId } from './support/messages';
import { withTestDatabase } from './support/mariadb';

function idEndingWith(digit: string): string {
  return newMessageId().slice(0, 31) + digit;
}

describe('mysql store schema - createSchema on an empty server', function () {
  this.timeout(30_000);
  const database = withTestDatabase();
  let store: MysqlStore;

  before(async () => {
    store = new MysqlStore(parseMysqlUri(database.current.uri({ shardnum: 4 })), { serverName: '127.0.0.1:13800' });
    await store.createSchema();
    await store.start();
  });
  after(async () => {
    await store?.stop();
  });

  const query = async <T>(sql: string, values: unknown[] = []): Promise<T[]> => {
    const [rows] = await database.current.sql.query(sql, values);
    return rows as T[];
  };

  it('creates <db>_0..<db>_3, each with kite_msg_0..kite_msg_3 and kite_msg_dlq', async () => {
    const db = database.current.db;
    const rows = await query<{ s: string; t: string }>(
      `SELECT table_schema AS s, table_name AS t FROM information_schema.tables
       WHERE table_schema LIKE ? ORDER BY s, t`,
      [`${db}\\_%`],
    );
    const expected: string[] = [];
    for (let shard = 0; shard < 4; shard++) {
      for (const table of ['kite_msg_0', 'kite_msg_1', 'kite_msg_2', 'kite_msg_3', 'kite_msg_dlq']) {
        expected.push(`${db}_${shard}.${table}`);
      }
    }
    assert.deepEqual(
      rows.map((r) => `${r.s}.${r.t}`),
      expected.sort(),
    );
  });

  it("has KiteQ's columns plus check_count, and dead_reason/dead_time in the dlq", async () => {
    const columnsOf = async (table: string) =>
      (
        await query<{ c: string }>(
          'SELECT column_name AS c FROM information_schema.columns WHERE table_schema = ? AND table_name = ?',
          [`${database.current.db}_2`, table],
        )
      ).map((r) => r.c);
    const kiteq = [
      'message_id',
      'topic',
      'message_type',
      'publish_group',
      'commit',
      'header',
      'body',
      'msg_type',
      'expired_time',
      'publish_time',
      'deliver_count',
      'deliver_limit',
      'kite_server',
      'fail_groups',
      'succ_groups',
      'next_deliver_time',
    ];
    const live = await columnsOf('kite_msg_1');
    for (const column of [...kiteq, 'check_count']) assert.ok(live.includes(column), `kite_msg_1.${column}`);
    const dlq = await columnsOf('kite_msg_dlq');
    for (const column of [...kiteq, 'check_count', 'dead_reason', 'dead_time'])
      assert.ok(dlq.includes(column), `dlq.${column}`);
  });

  it('has a unique message_id and the recovery index (kite_server, next_deliver_time, message_id)', async () => {
    const rows = await query<{ k: string; u: number; c: string }>(
      `SELECT index_name AS k, non_unique AS u, column_name AS c FROM information_schema.statistics
       WHERE table_schema = ? AND table_name = 'kite_msg_0' ORDER BY index_name, seq_in_index`,
      [`${database.current.db}_0`],
    );
    const columnsOf = (index: string) => rows.filter((r) => r.k === index).map((r) => r.c);
    assert.deepEqual(columnsOf('idx_recover'), ['kite_server', 'next_deliver_time', 'message_id']);
    assert.deepEqual(columnsOf('idx_message_id'), ['message_id']);
    assert.equal(rows.find((r) => r.k === 'idx_message_id')?.u, 0);
  });

  it("puts a message in KiteQ's table for the last hex digit of its id", async () => {
    // shardnum=4: 16/4 = 4 tables per database; digit d -> <db>_{d/4}.kite_msg_{d%4}
    const cases: [string, number, number][] = [
      ['0', 0, 0],
      ['5', 1, 1],
      ['a', 2, 2],
      ['b', 2, 3],
      ['f', 3, 3],
    ];
    for (const [digit, shard, table] of cases) {
      const message = aMessage({ messageId: idEndingWith(digit) });
      await store.save(message);
      const rows = await query<{ topic: string }>(
        `SELECT topic FROM \`${database.current.db}_${shard}\`.\`kite_msg_${table}\` WHERE message_id = ?`,
        [message.header.messageId],
      );
      assert.equal(rows.length, 1, `id ending in ${digit} should be in ${shard}.kite_msg_${table}`);
    }
  });

  it('stores groups as JSON arrays and the header as protobuf, as KiteQ does', async () => {
    const message = aMessage({ messageId: idEndingWith('7') });
    await store.save(message);
    await store.recordDelivery(message.header.messageId, {
      succGroups: ['s-mc'],
      failGroups: ['s-risk', 's-audit'],
      deliverCount: 1,
      nextDeliverTime: 100,
    });
    const [row] = await query<{ succ: string; fail: string; header: Buffer; commit: number }>(
      `SELECT succ_groups AS succ, fail_groups AS fail, header, commit
       FROM \`${database.current.db}_1\`.\`kite_msg_3\` WHERE message_id = ?`,
      [message.header.messageId],
    );
    assert.deepEqual([JSON.parse(row.succ), JSON.parse(row.fail), row.commit], [['s-mc'], ['s-risk', 's-audit'], 1]);
    assert.ok(row.header.includes(Buffer.from(message.header.messageId)));
  });
});

describe('mysql store schema - start on a KiteQ-made schema without our columns', function () {
  this.timeout(30_000);
  const database = withTestDatabase();
  let store: MessageStore | undefined;
  after(async () => {
    await store?.stop();
  });

  it('adds check_count (and the dlq columns) and keeps the rows that were there', async () => {
    const { db, sql } = database.current;
    // KiteQ's table.sh, shardnum=16: one table per database; its unique index on message_id under
    // another name than ours (writes by id force that index by the name the table has).
    for (let shard = 0; shard < 16; shard++) {
      await sql.query(`CREATE DATABASE \`${db}_${shard}\``);
      for (const table of ['kite_msg_0', 'kite_msg_dlq']) {
        await sql.query(`CREATE TABLE \`${db}_${shard}\`.\`${table}\` (
          id int NOT NULL AUTO_INCREMENT, header mediumblob, body mediumblob, msg_type tinyint(3) unsigned,
          message_id varchar(32) NOT NULL, topic varchar(255), message_type varchar(255), publish_group varchar(255),
          commit tinyint(1), expired_time bigint(13), publish_time bigint(13), deliver_count int(11),
          deliver_limit int(11), kite_server varchar(255), fail_groups varchar(255), succ_groups varchar(255),
          next_deliver_time bigint(13), PRIMARY KEY (id), UNIQUE KEY uk_message_id (message_id),
          KEY idx_recover (kite_server, next_deliver_time)) ENGINE=InnoDB DEFAULT CHARSET=utf8`);
      }
    }
    const id = idEndingWith('c');
    await sql.query(
      `INSERT INTO \`${db}_12\`.kite_msg_0 (message_id, topic, succ_groups, fail_groups, commit, kite_server,
       next_deliver_time, deliver_count, deliver_limit, header, msg_type) VALUES (?, 'trade', 'null', 'null', 1, ?, 1, 0, 100, ?, 18)`,
      [id, '127.0.0.1:13800', Buffer.from(encodeHeader(aMessage({ messageId: id }).header))],
    );
    store = new MysqlStore(parseMysqlUri(database.current.uri({ shardnum: 16 })), { serverName: '127.0.0.1:13800' });
    await store.start();
    const [columns] = await sql.query(
      `SELECT table_name AS t, column_name AS c FROM information_schema.columns WHERE table_schema = ?
       AND column_name IN ('check_count', 'dead_reason', 'dead_time') ORDER BY t, c`,
      [`${db}_12`],
    );
    assert.deepEqual(
      (columns as { t: string; c: string }[]).map((r) => `${r.t}.${r.c}`),
      ['kite_msg_0.check_count', 'kite_msg_dlq.check_count', 'kite_msg_dlq.dead_reason', 'kite_msg_dlq.dead_time'],
    );
    const stored = await store.get(id);
    assert.deepEqual([stored?.header.topic, stored?.succGroups, stored?.checkCount], ['trade', [], 0]);
    const due = await store.pageDue({ dueBy: 10, limit: 10, committed: true });
    assert.deepEqual(
      due.map((m) => m.header.messageId),
      [id],
    );
    await store.recordDelivery(id, { succGroups: ['g'], failGroups: [], deliverCount: 1, nextDeliverTime: 5 });
    assert.deepEqual((await store.get(id))?.succGroups, ['g']);
    await store.delete(id);
    assert.equal(await store.get(id), undefined);
  });
});
