// Recovery paging by cursor (doc/architecture.md §6, §12: KiteQ pages with LIMIT offset over next_deliver_time
// alone and can skip or repeat rows). Each table gives its first `limit` rows strictly after
// the cursor in (next_deliver_time, message_id) order, served by idx_recover (kite_server,
// next_deliver_time, message_id); the answers are merged and cut to `limit`. The global first
// `limit` rows are always among the tables' first `limit`, so no row is skipped or repeated, however
// many share one next_deliver_time.
import type { DueQuery, StoredMessage } from '../contract';
import { compareDue } from '../due-order';
import type { MysqlEndpoint } from './connection';
import { type MessageRow, SELECT_COLUMN_LIST, messageFromRow } from './row-codec';
import type { Sharding } from './sharding';

export async function pageDue(
  endpoint: MysqlEndpoint,
  sharding: Sharding,
  kiteServer: string,
  query: DueQuery,
): Promise<StoredMessage[]> {
  if (query.limit <= 0) return [];
  const after = query.after;
  const cursorSql = after ? 'AND (next_deliver_time > ? OR (next_deliver_time = ? AND message_id > ?))' : '';
  const cursorValues = after ? [after.nextDeliverTime, after.nextDeliverTime, after.messageId] : [];
  if (query.topics?.length === 0) return [];
  const topicSql = query.topics ? 'AND topic IN (?)' : '';
  const topicValues = query.topics ? [query.topics] : [];
  // One statement: every table's first `limit` rows, UNION ALL; the merge happens here.
  const parts: string[] = [];
  const values: unknown[] = [];
  for (const table of sharding.tables) {
    parts.push(`(SELECT ${SELECT_COLUMN_LIST} FROM ${table.qualified}
      WHERE kite_server = ? AND commit = ? AND next_deliver_time <= ? ${cursorSql} ${topicSql}
      ORDER BY next_deliver_time, message_id LIMIT ?)`);
    values.push(kiteServer, query.committed ? 1 : 0, query.dueBy, ...cursorValues, ...topicValues, query.limit);
  }
  const rows = await endpoint.query<MessageRow>('pageDue', parts.join(' UNION ALL '), values);
  return rows.map(messageFromRow).sort(compareDue).slice(0, query.limit);
}
