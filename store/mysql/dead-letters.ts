// The dead-letter area (doc/architecture.md §6: kept, queryable, re-drivable; never silently dropped): KiteQ's
// kite_msg_dlq, one per database (blackbeans/kiteq store/mysql/table.sh), which its MoveExpired fills
// with `INSERT INTO kite_msg_dlq(cols) SELECT cols FROM kite_msg_<n> WHERE message_id IN (..)` and a
// DELETE. We do the same in one transaction per chunk, and also keep why (dead_reason) and when
// (dead_time).
import type { ResultSetHeader } from 'mysql2/promise';
import type { DeadLetter, DeadLetterQuery, StoredMessage } from '../contract';
import type { MysqlEndpoint } from './connection';
import { INSERT_COLUMNS, INSERT_COLUMN_LIST, type MessageRow, SELECT_COLUMN_LIST, messageFromRow } from './row-codec';
import type { Sharding, TableRef } from './sharding';

/** Rows moveExpiredToDlq reads per candidate page and moves per transaction. */
const MOVE_CHUNK = 50;

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
 * most `limit` in all. The candidates are found by a plain read, which locks nothing, so the scan
 * over rows that are not overdue never blocks (or deadlocks with) the batch writer; each transaction
 * then locks only its MOVE_CHUNK candidates, by primary key, and moves those still overdue.
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
    let afterId = 0;
    while (moved < limit) {
      const candidates = await endpoint.query<{ id: number }>(
        'moveExpiredToDlq',
        `SELECT id FROM ${table.qualified} WHERE kite_server = ? AND ${OVERDUE} AND id > ? ORDER BY id LIMIT ?`,
        [kiteServer, nowSec, afterId, Math.min(MOVE_CHUNK, limit - moved)],
      );
      if (candidates.length === 0) break;
      afterId = Number(candidates[candidates.length - 1].id);
      moved += await moveOverdue(
        endpoint,
        table,
        kiteServer,
        nowSec,
        candidates.map((r) => r.id),
      );
    }
  }
  return moved;
}

/**
 * One transaction: locks the given rows alone and moves those still overdue. Each statement names one
 * primary key, a const lookup: with `id IN (..)` the optimizer may scan, and lock, the whole table.
 */
async function moveOverdue(
  endpoint: MysqlEndpoint,
  table: TableRef,
  kiteServer: string,
  nowSec: number,
  candidates: number[],
): Promise<number> {
  return endpoint.transaction('moveExpiredToDlq', async (run) => {
    const locked = (await run.script(
      candidates.map((id) => ({
        sql: `SELECT id, message_id, (kite_server = ? AND ${OVERDUE}) AS overdue FROM ${table.qualified} WHERE id = ? FOR UPDATE`,
        values: [kiteServer, nowSec, id],
      })),
    )) as { id: number; message_id: string; overdue: number }[][];
    // In message_id order, the order in which a flush reads the dead-letter index (batch-sql.ts
    // notDeadLettered): the locks the two take there never form a cycle.
    const ids = locked
      .flat()
      .filter((r) => Number(r.overdue) === 1)
      .sort((a, b) => (a.message_id < b.message_id ? -1 : a.message_id > b.message_id ? 1 : 0))
      .map((r) => r.id);
    if (ids.length === 0) return 0;
    const moves = ids.flatMap((id) => [
      {
        sql: `REPLACE INTO ${table.dlqQualified} (${INSERT_COLUMN_LIST}, dead_reason, dead_time)
              SELECT ${INSERT_COLUMN_LIST},
                IF(expired_time > 0 AND expired_time <= ?, 'expired', 'deliver limit reached'), ?
              FROM ${table.qualified} WHERE id = ?`,
        values: [nowSec, nowSec, id],
      },
      { sql: `DELETE FROM ${table.qualified} WHERE id = ?`, values: [id] },
    ]);
    const results = (await run.script(moves)) as ResultSetHeader[];
    return results.filter((_, i) => i % 2 === 1).reduce((n, r) => n + r.affectedRows, 0);
  });
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
