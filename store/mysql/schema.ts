// KiteQ's schema (blackbeans/kiteq store/mysql/table.sh: `<db>_<k>` databases of kite_msg_<n> tables
// and one kite_msg_dlq each), created IF NOT EXISTS by `kiteq-server --init-schema` or by start() when
// the tables are missing (doc/architecture.md §8). Our additions, applied to existing KiteQ tables as well:
//   kite_msg_<n>.check_count        tx check-backs sent (doc/architecture.md §7); KiteQ has no such column
//   kite_msg_dlq.check_count, dead_reason, dead_time   why and when a message was dead-lettered
//   idx_recover (kite_server, next_deliver_time, message_id)   the recovery cursor (doc/architecture.md §6)
// Added columns come last with defaults, so a KiteQ broker sharing the tables (it names its columns in
// every statement) keeps working. An existing KiteQ index named idx_recover is left as it is: KiteQ's
// queries say FORCE INDEX(idx_recover), and its (kite_server, next_deliver_time) prefix serves ours.
// message_id is ascii_bin in tables we create, so SQL orders ids as the merge in due-pages.ts does
// (KiteQ's utf8 general_ci agrees for the lowercase hex ids its clients make).
import type { Sharding } from './sharding';
import type { SqlRunner } from './connection';

const MESSAGE_COLUMNS = `
  id bigint unsigned NOT NULL AUTO_INCREMENT,
  header mediumblob,
  body mediumblob,
  msg_type tinyint(3) unsigned DEFAULT NULL,
  message_id varchar(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  topic varchar(255) DEFAULT NULL,
  message_type varchar(255) DEFAULT NULL,
  publish_group varchar(255) DEFAULT NULL,
  commit tinyint(1) DEFAULT NULL,
  expired_time bigint(13) DEFAULT NULL,
  publish_time bigint(13) DEFAULT NULL,
  deliver_count int(11) DEFAULT NULL,
  deliver_limit int(11) DEFAULT NULL,
  kite_server varchar(255) DEFAULT NULL,
  fail_groups text DEFAULT NULL,
  succ_groups text DEFAULT NULL,
  next_deliver_time bigint(13) DEFAULT NULL,
  check_count int(11) NOT NULL DEFAULT 0,`;

const MESSAGE_KEYS = `
  PRIMARY KEY (id),
  UNIQUE KEY idx_message_id (message_id),
  KEY idx_expired_time (expired_time),
  KEY idx_recover (kite_server, next_deliver_time, message_id)`;

function createMessageTable(qualified: string): string {
  return `CREATE TABLE IF NOT EXISTS ${qualified} (${MESSAGE_COLUMNS}${MESSAGE_KEYS}
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`;
}

function createDlqTable(qualified: string): string {
  return `CREATE TABLE IF NOT EXISTS ${qualified} (${MESSAGE_COLUMNS}
  dead_reason varchar(512) NOT NULL DEFAULT '',
  dead_time bigint(13) NOT NULL DEFAULT 0,${MESSAGE_KEYS}
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`;
}

/** Columns we add to a KiteQ table that lacks them. */
const ADDED_COLUMNS: Record<'message' | 'dlq', Record<string, string>> = {
  message: { check_count: 'int(11) NOT NULL DEFAULT 0' },
  dlq: {
    check_count: 'int(11) NOT NULL DEFAULT 0',
    dead_reason: "varchar(512) NOT NULL DEFAULT ''",
    dead_time: 'bigint(13) NOT NULL DEFAULT 0',
  },
};

interface TableName {
  schema: string;
  table: string;
  kind: 'message' | 'dlq';
}

function allTables(sharding: Sharding): TableName[] {
  const out: TableName[] = [];
  for (const ref of sharding.tables) {
    out.push({ schema: sharding.databaseName(ref.shard), table: `kite_msg_${ref.table}`, kind: 'message' });
  }
  for (const dlq of sharding.dlqTables()) {
    out.push({ schema: sharding.databaseName(dlq.shard), table: 'kite_msg_dlq', kind: 'dlq' });
  }
  return out;
}

/** Which of our tables are missing (an empty list: the schema is there). */
export async function missingTables(run: SqlRunner, sharding: Sharding): Promise<string[]> {
  const rows = await run.query<{ s: string; t: string }>(
    'SELECT table_schema AS s, table_name AS t FROM information_schema.tables WHERE table_schema IN (?)',
    [sharding.databases()],
  );
  const present = new Set(rows.map((r) => `${r.s}.${r.t}`));
  return allTables(sharding)
    .map((t) => `${t.schema}.${t.table}`)
    .filter((name) => !present.has(name));
}

/** Adds our columns to tables that lack them (KiteQ-made tables); returns what was added. */
export async function upgradeColumns(run: SqlRunner, sharding: Sharding): Promise<string[]> {
  const rows = await run.query<{ s: string; t: string; c: string }>(
    `SELECT table_schema AS s, table_name AS t, column_name AS c FROM information_schema.columns
     WHERE table_schema IN (?)`,
    [sharding.databases()],
  );
  const present = new Set(rows.map((r) => `${r.s}.${r.t}.${r.c}`));
  const added: string[] = [];
  for (const t of allTables(sharding)) {
    const wanted = Object.entries(ADDED_COLUMNS[t.kind]).filter(([c]) => !present.has(`${t.schema}.${t.table}.${c}`));
    if (wanted.length === 0) continue;
    const clauses = wanted.map(([c, type]) => `ADD COLUMN IF NOT EXISTS \`${c}\` ${type}`).join(', ');
    await run.query(`ALTER TABLE \`${t.schema}\`.\`${t.table}\` ${clauses}`);
    added.push(...wanted.map(([c]) => `${t.schema}.${t.table}.${c}`));
  }
  return added;
}

/**
 * The unique index on message_id of each message table, by `schema.table` (ours is idx_message_id; a
 * KiteQ-made table may name it otherwise). On a small table the optimizer answers `message_id IN (..)`
 * with a scan of the whole table, locking every row it reads and the end of the table, so concurrent
 * flushes of one table deadlock; writes force this index (doc/mysql-store.md "Batching").
 */
export async function messageIdIndexes(run: SqlRunner, sharding: Sharding): Promise<Map<string, string>> {
  const rows = await run.query<{ s: string; t: string; i: string }>(
    `SELECT table_schema AS s, table_name AS t, index_name AS i FROM information_schema.statistics
     WHERE table_schema IN (?) AND column_name = 'message_id' AND seq_in_index = 1 AND non_unique = 0
     ORDER BY index_name`,
    [sharding.databases()],
  );
  const indexes = new Map<string, string>();
  for (const r of rows) if (!indexes.has(`${r.s}.${r.t}`)) indexes.set(`${r.s}.${r.t}`, r.i);
  return indexes;
}

/** Creates the databases and tables (IF NOT EXISTS) and upgrades KiteQ-made ones. */
export async function createSchema(run: SqlRunner, sharding: Sharding): Promise<void> {
  for (const name of sharding.databases()) {
    await run.query(`CREATE DATABASE IF NOT EXISTS \`${name}\` DEFAULT CHARACTER SET utf8mb4`);
  }
  for (const ref of sharding.tables) await run.query(createMessageTable(ref.qualified));
  for (const dlq of sharding.dlqTables()) await run.query(createDlqTable(dlq.qualified));
  await upgradeColumns(run, sharding);
}
