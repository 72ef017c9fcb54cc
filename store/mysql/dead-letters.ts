// The dead-letter area (doc/architecture.md §6: kept, queryable, re-drivable; never silently dropped): KiteQ's
// kite_msg_dlq, one per database (blackbeans/kiteq store/mysql/table.sh), which its MoveExpired fills
// with `INSERT INTO kite_msg_dlq(cols) SELECT cols FROM kite_msg_<n> WHERE message_id IN (..)` and a
// DELETE. We do the same in one transaction per chunk, and also keep why (dead_reason) and when
// (dead_time).
import type { DeadLetter, DeadLetterQuery, StoredMessage } from '../contract';
import type { MysqlEndpoint } from './connection';
import { INSERT_COLUMNS, INSERT_COLUMN_LIST, type MessageRow, SELECT_COLUMN_LIST, messageFromRow } from './row-codec';
import type { Sharding, TableRef } from './sharding';

/** Rows moveExpiredToDlq moves per statement. */
const MOVE_CHUNK = 500;

const OVERDUE = '(deliver_count >= deliver_limit OR (expired_time > 0 AND expired_time <= ?))';

/** Moves one message to its database's kite_msg_dlq with a reason; a no-op when it is not live. */
export async function deadLetter(
  endpoint: MysqlEndpoint,
  table: TableRef,
  messageId: string,
  reason: string,
  nowSec: number,
): Promise<void> {
  await endpoint.transaction('deadLetter', async (run) => {
    await run.execute(
      `REPLACE INTO ${table.dlqQualified} (${INSERT_COLUMN_LIST}, dead_reason, dead_time)
       SELECT ${INSERT_COLUMN_LIST}, ?, ? FROM ${table.qualified} WHERE message_id = ?`,
      [reason.slice(0, 512), nowSec, messageId],
    );
    await run.execute(`DELETE FROM ${table.qualified} WHERE message_id = ?`, [messageId]);
  });
}

/**
 * Moves this broker's messages past their deliverLimit or expiredTime to the dead-letter tables, at
 * most `limit` in all and MOVE_CHUNK per transaction, so one run never holds long locks.
 */
export async function moveExpiredToDlq(
  endpoint: MysqlEndpoint,
  sharding: Sharding,
  kiteServer: string,
  nowSec: number,
  limit: number,
): Promise<number> {
  let moved = 0;
  for (const table of sharding.tables) {
    while (moved < limit) {
      const chunk = Math.min(MOVE_CHUNK, limit - moved);
      const n = await endpoint.transaction('moveExpiredToDlq', async (run) => {
        const rows = await run.query<{ message_id: string }>(
          `SELECT message_id FROM ${table.qualified} WHERE kite_server = ? AND ${OVERDUE}
           ORDER BY message_id LIMIT ? FOR UPDATE`,
          [kiteServer, nowSec, chunk],
        );
        if (rows.length === 0) return 0;
        const ids = rows.map((r) => r.message_id);
        await run.execute(
          `REPLACE INTO ${table.dlqQualified} (${INSERT_COLUMN_LIST}, dead_reason, dead_time)
           SELECT ${INSERT_COLUMN_LIST},
             IF(expired_time > 0 AND expired_time <= ?, 'expired', 'deliver limit reached'), ?
           FROM ${table.qualified} WHERE message_id IN (?)`,
          [nowSec, nowSec, ids],
        );
        const deleted = await run.execute(`DELETE FROM ${table.qualified} WHERE message_id IN (?)`, [ids]);
        return deleted.affectedRows;
      });
      moved += n;
      if (n < chunk) break;
    }
  }
  return moved;
}

interface DeadRow extends MessageRow {
  dead_reason: string;
  dead_time: number;
}

export async function listDeadLetters(
  endpoint: MysqlEndpoint,
  sharding: Sharding,
  query: DeadLetterQuery,
): Promise<DeadLetter[]> {
  if (query.limit <= 0) return [];
  const where: string[] = [];
  const values: unknown[] = [];
  if (query.afterId !== undefined) {
    where.push('message_id > ?');
    values.push(query.afterId);
  }
  if (query.topic !== undefined) {
    where.push('topic = ?');
    values.push(query.topic);
  }
  if (query.groupId !== undefined) {
    // succ_groups is KiteQ's JSON array text; "null" or '' holds no group.
    where.push('COALESCE(JSON_CONTAINS(succ_groups, JSON_QUOTE(?)), 0) = 0');
    values.push(query.groupId);
  }
  const whereSql = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  const perTable = await Promise.all(
    sharding.dlqTables().map((dlq) =>
      endpoint.query<DeadRow>(
        'listDeadLetters',
        `SELECT ${SELECT_COLUMN_LIST}, dead_reason, dead_time FROM ${dlq.qualified} ${whereSql}
         ORDER BY message_id LIMIT ?`,
        [...values, query.limit],
      ),
    ),
  );
  return perTable
    .flat()
    .sort((a, b) => (a.message_id < b.message_id ? -1 : a.message_id > b.message_id ? 1 : 0))
    .slice(0, query.limit)
    .map((row) => ({ message: messageFromRow(row), reason: row.dead_reason, deadTime: Number(row.dead_time) }));
}

/** Moves a dead letter back (deliverCount and checkCount 0, due at nextDeliverTime, owned by us). */
export async function redrive(
  endpoint: MysqlEndpoint,
  table: TableRef,
  messageId: string,
  nextDeliverTime: number,
  kiteServer: string,
): Promise<boolean> {
  const reset: Record<string, string> = {
    deliver_count: '0',
    check_count: '0',
    next_deliver_time: '?',
    kite_server: '?',
  };
  const selectList = INSERT_COLUMNS.map((c) => reset[c] ?? `\`${c}\``).join(',');
  return endpoint.transaction('redrive', async (run) => {
    const inserted = await run.execute(
      `INSERT INTO ${table.qualified} (${INSERT_COLUMN_LIST})
       SELECT ${selectList} FROM ${table.dlqQualified} WHERE message_id = ?`,
      [kiteServer, nextDeliverTime, messageId], // kite_server comes before next_deliver_time
    );
    if (inserted.affectedRows === 0) return false;
    await run.execute(`DELETE FROM ${table.dlqQualified} WHERE message_id = ?`, [messageId]);
    return true;
  });
}

export async function getDeadLetter(
  endpoint: MysqlEndpoint,
  table: TableRef,
  messageId: string,
): Promise<StoredMessage | undefined> {
  const rows = await endpoint.query<MessageRow>(
    'get',
    `SELECT ${SELECT_COLUMN_LIST} FROM ${table.dlqQualified} WHERE message_id = ?`,
    [messageId],
  );
  return rows[0] && messageFromRow(rows[0]);
}
