// Runs the batches of one or more tables as one transaction of multi-row statements (doc/architecture.md
// §8, §12: KiteQ's "batches" are row by row): per table one INSERT ... VALUES (..),(..), one UPDATE ...
// SET col = CASE message_id WHEN .. END, one DELETE ... WHERE message_id IN (..).
// A batch that saves goes out optimistically first, in one round trip: BEGIN, an assertion that no
// saved id is dead-lettered, every write, COMMIT. A saved id the table already holds fails the INSERT
// on its unique key; one the dead-letter table holds (no key shared with it) fails the assertion. The
// server runs nothing after a failed statement, so the transaction is rolled back and the batch re-runs
// the careful way, in two round trips: a SELECT on the table and its dead-letter table first, so only
// the duplicate save is rejected. The careful way for every batch cost the roundtrip bench about a
// seventh of its throughput (doc/mysql-store.md "Batching"). A duplicate that races in between
// (another broker) fails the careful INSERT, and then the batch is replayed op by op so that again
// only the duplicate is rejected.
import { DuplicateMessageError, StoreError, StoreUnavailableError } from '../errors';
import type { ResultSetHeader } from 'mysql2/promise';
import type { MysqlEndpoint, SqlRunner, Statement } from './connection';
import { INSERT_COLUMN_LIST, encodeGroups, rowValues } from './row-codec';
import type { TableRef } from './sharding';
import { TableBatch, type UpdateFields } from './table-batch';

/** What a store has sent to MySQL: for tests (far fewer statements than rows) and the bench. */
export interface StatementCounts {
  flushes: number;
  insertStatements: number;
  updateStatements: number;
  deleteStatements: number;
  selectStatements: number;
  rowsInserted: number;
  rowsUpdated: number;
  rowsDeleted: number;
}

export function emptyCounts(): StatementCounts {
  return {
    flushes: 0,
    insertStatements: 0,
    updateStatements: 0,
    deleteStatements: 0,
    selectStatements: 0,
    rowsInserted: 0,
    rowsUpdated: 0,
    rowsDeleted: 0,
  };
}

interface BatchOutcome {
  duplicates: Set<string>;
  existed: Set<string>;
}

const UPDATE_COLUMNS: { field: keyof UpdateFields; column: string; value: (f: UpdateFields) => unknown }[] = [
  { field: 'succGroups', column: 'succ_groups', value: (f) => encodeGroups(f.succGroups!) },
  { field: 'failGroups', column: 'fail_groups', value: (f) => encodeGroups(f.failGroups!) },
  { field: 'deliverCount', column: 'deliver_count', value: (f) => f.deliverCount },
  { field: 'nextDeliverTime', column: 'next_deliver_time', value: (f) => f.nextDeliverTime },
  { field: 'commit', column: 'commit', value: (f) => (f.commit ? 1 : 0) },
  { field: 'checkCount', column: 'check_count', value: (f) => f.checkCount },
];

/** One table's batch in a flush; a flush may carry the batches of several tables. */
export interface FlushPart {
  table: TableRef;
  batch: TableBatch;
}

/**
 * A plain-SQL assertion that no saved id is dead-lettered (MySQL and MariaDB alike): the scalar
 * subquery has one row, or more when a dead-letter table holds one of the ids, and then the server
 * refuses the statement (ER_SUBQUERY_NO_1_ROW) and runs none of the script after it. Undefined when
 * the flush saves nothing.
 */
function notDeadLettered(parts: FlushPart[]): Statement | undefined {
  const idsByDlq = new Map<string, string[]>();
  for (const { table, batch } of parts) {
    if (batch.inserts.size === 0) continue;
    const ids = idsByDlq.get(table.dlqQualified) ?? [];
    ids.push(...batch.inserts.keys());
    idsByDlq.set(table.dlqQualified, ids);
  }
  if (idsByDlq.size === 0) return undefined;
  const selects = [...idsByDlq.keys()].map((dlq) => `SELECT 1 FROM ${dlq} WHERE message_id IN (?) UNION ALL `);
  return { sql: `SET @kiteq_dead = (${selects.join('')}SELECT 1)`, values: [...idsByDlq.values()] };
}

/** The server refused the optimistic script because a saved id is stored already (see the top of this file). */
function isStoredAlready(error: unknown): boolean {
  const code = (error as { code?: string })?.code;
  return code === 'ER_DUP_ENTRY' || code === 'ER_SUBQUERY_NO_1_ROW';
}

/**
 * The batches of one or more tables in one round trip and one transaction, with no read ahead of
 * their writes (see the top of this file). Resolves null when a saved id turned out to be stored
 * already (in a table or a dead-letter table): the transaction is rolled back and the caller re-runs
 * each batch with writeChecked.
 */
async function writeOptimistic(
  run: SqlRunner,
  parts: FlushPart[],
  kiteServer: string,
  counts: StatementCounts,
): Promise<BatchOutcome[] | null> {
  const script: Statement[] = [{ sql: 'BEGIN' }];
  const assertion = notDeadLettered(parts);
  if (assertion) script.push(assertion);
  // where each part's rollback answer (the FOR UPDATE read) comes in the results
  const askedAt = parts.map(({ table, batch }) => {
    const asked = askedIds(batch);
    if (asked.length === 0) return -1;
    script.push(lockAsked(table, asked));
    return script.length - 1;
  });
  counts.selectStatements += script.length - 1;
  const writes: Write[] = [];
  for (const { table, batch } of parts) {
    if (batch.inserts.size > 0) {
      writes.push(
        insertWrite(
          table,
          [...batch.inserts.values()].map((op) => rowValues(op.message, kiteServer)),
        ),
      );
    }
    writes.push(...updateAndDelete(table, batch));
  }
  let results: unknown[];
  try {
    results = await run.script([...script, ...writes.map((w) => w.statement), { sql: 'COMMIT' }]);
  } catch (error) {
    if (!isStoredAlready(error)) throw error;
    await run.script([{ sql: 'ROLLBACK' }]);
    return null;
  }
  const outcomes = parts.map(({ batch }, i): BatchOutcome => {
    const outcome: BatchOutcome = { duplicates: new Set(), existed: new Set() };
    if (askedAt[i] < 0) return outcome;
    for (const row of results[askedAt[i]] as { message_id: string }[]) outcome.existed.add(row.message_id);
    // a rollback queued behind its own save in this batch finds the row
    for (const id of askedIds(batch)) if (batch.inserts.has(id)) outcome.existed.add(id);
    return outcome;
  });
  countWrites(counts, writes, results as ResultSetHeader[], script.length);
  return outcomes;
}

interface Write {
  statement: Statement;
  rows: 'rowsInserted' | 'rowsUpdated' | 'rowsDeleted';
}

/** The deletes whose callers (rollbacks) want to know whether the row existed. */
function askedIds(batch: TableBatch): string[] {
  return [...batch.deletes.entries()].filter(([, op]) => op.wantExisted).map(([id]) => id);
}

/** Reads (and locks) which of the asked ids the table holds. */
function lockAsked(table: TableRef, asked: string[]): Statement {
  return { sql: `SELECT message_id FROM ${table.byId} WHERE message_id IN (?) FOR UPDATE`, values: [asked] };
}

function insertWrite(table: TableRef, rows: unknown[][]): Write {
  return {
    statement: { sql: `INSERT INTO ${table.qualified} (${INSERT_COLUMN_LIST}) VALUES ?`, values: [rows] },
    rows: 'rowsInserted',
  };
}

/** The batch's UPDATE and DELETE statements, those it has. */
function updateAndDelete(table: TableRef, batch: TableBatch): Write[] {
  const writes: Write[] = [];
  if (batch.updates.size > 0) writes.push({ statement: updateStatement(table, batch), rows: 'rowsUpdated' });
  if (batch.deletes.size > 0) {
    writes.push({
      statement: {
        sql: `DELETE ${table.qualified} FROM ${table.byId} WHERE message_id IN (?)`,
        values: [[...batch.deletes.keys()]],
      },
      rows: 'rowsDeleted',
    });
  }
  return writes;
}

/** Adds the statements and the rows they affected; `results[offset + i]` answers `writes[i]`. */
function countWrites(counts: StatementCounts, writes: Write[], results: ResultSetHeader[], offset: number): void {
  writes.forEach((w, i) => {
    if (w.rows === 'rowsInserted') counts.insertStatements++;
    else if (w.rows === 'rowsUpdated') counts.updateStatements++;
    else counts.deleteStatements++;
    counts[w.rows] += results[offset + i].affectedRows;
  });
}

async function writeChecked(
  run: SqlRunner,
  table: TableRef,
  batch: TableBatch,
  kiteServer: string,
  counts: StatementCounts,
): Promise<BatchOutcome> {
  const outcome: BatchOutcome = { duplicates: new Set(), existed: new Set() };
  const insertIds = [...batch.inserts.keys()];
  const asked = askedIds(batch);

  // Round trip 1 (only when saving or rolling back): BEGIN and what the writes depend on.
  const reads: Statement[] = [];
  if (insertIds.length > 0) {
    reads.push({
      sql: `SELECT message_id FROM ${table.qualified} WHERE message_id IN (?)
            UNION ALL SELECT message_id FROM ${table.dlqQualified} WHERE message_id IN (?)`,
      values: [insertIds, insertIds],
    });
  }
  if (asked.length > 0) reads.push(lockAsked(table, asked));
  const inTransaction = reads.length > 0;
  if (inTransaction) {
    counts.selectStatements += reads.length;
    const results = (await run.script([{ sql: 'BEGIN' }, ...reads])) as { message_id: string }[][];
    let next = 1;
    if (insertIds.length > 0) for (const row of results[next++]) outcome.duplicates.add(row.message_id);
    if (asked.length > 0) for (const row of results[next]) outcome.existed.add(row.message_id);
  }

  // Round trip 2: every write, then COMMIT.
  const writes: Write[] = [];
  const rows = [...batch.inserts.values()]
    .filter((op) => !outcome.duplicates.has(op.message.header.messageId))
    .map((op) => rowValues(op.message, kiteServer));
  if (rows.length > 0) {
    writes.push(insertWrite(table, rows));
    // a rollback queued behind its own save in this batch finds the row
    for (const id of asked) if (batch.inserts.has(id) && !outcome.duplicates.has(id)) outcome.existed.add(id);
  }
  writes.push(...updateAndDelete(table, batch));
  const wrapped = inTransaction || writes.length > 1;
  const script = [
    ...(wrapped && !inTransaction ? [{ sql: 'BEGIN' }] : []),
    ...writes.map((w) => w.statement),
    ...(wrapped ? [{ sql: 'COMMIT' }] : []),
  ];
  if (script.length === 0) return outcome;
  const results = (await run.script(script)) as ResultSetHeader[];
  countWrites(counts, writes, results, wrapped && !inTransaction ? 1 : 0);
  return outcome;
}

/** UPDATE t SET col = CASE message_id WHEN ? THEN ? ... ELSE col END, ... WHERE message_id IN (..) */
function updateStatement(table: TableRef, batch: TableBatch): Statement {
  const ops = [...batch.updates.entries()];
  const sets: string[] = [];
  const values: unknown[] = [];
  for (const { field, column, value } of UPDATE_COLUMNS) {
    const touching = ops.filter(([, op]) => op.fields[field] !== undefined);
    if (touching.length === 0) continue;
    sets.push(
      `\`${column}\` = CASE message_id ${touching.map(() => 'WHEN ? THEN ?').join(' ')} ELSE \`${column}\` END`,
    );
    for (const [id, op] of touching) values.push(id, value(op.fields));
  }
  values.push(ops.map(([id]) => id));
  return { sql: `UPDATE ${table.byId} SET ${sets.join(', ')} WHERE message_id IN (?)`, values };
}

function settle(batch: TableBatch, outcome: BatchOutcome): void {
  for (const [id, op] of batch.inserts) {
    if (outcome.duplicates.has(id)) op.waiter.reject(new DuplicateMessageError(id));
    else op.waiter.resolve();
  }
  for (const op of batch.updates.values()) for (const w of op.waiters) w.resolve();
  for (const [id, op] of batch.deletes) for (const w of op.waiters) w.resolve(outcome.existed.has(id));
}

function isDuplicateEntry(error: unknown): boolean {
  return (error as { cause?: { code?: string } })?.cause?.code === 'ER_DUP_ENTRY';
}

/** Splits a batch into one batch per operation, in the flush order (inserts, updates, deletes). */
function singleOps(batch: TableBatch): TableBatch[] {
  const out: TableBatch[] = [];
  const one = () => new TableBatch(1, Number.MAX_SAFE_INTEGER);
  for (const op of batch.inserts.values()) {
    const b = one();
    b.addInsert(op.message, op.waiter);
    out.push(b);
  }
  for (const [id, op] of batch.updates) {
    const b = one();
    for (const w of op.waiters) b.addUpdate(id, op.fields, w);
    out.push(b);
  }
  for (const [id, op] of batch.deletes) {
    const b = one();
    for (const w of op.waiters) b.addDelete(id, op.wantExisted, w);
    out.push(b);
  }
  return out;
}

/** Flushes one batch and settles every waiter in it; never rejects. */
export async function flushBatch(
  endpoint: MysqlEndpoint,
  table: TableRef,
  batch: TableBatch,
  kiteServer: string,
  counts: StatementCounts,
): Promise<void> {
  counts.flushes++;
  try {
    const outcome = await endpoint.withConnection('flush', async (run) => {
      try {
        const optimistic =
          batch.inserts.size > 0 ? await writeOptimistic(run, [{ table, batch }], kiteServer, counts) : null;
        return optimistic?.[0] ?? (await writeChecked(run, table, batch, kiteServer, counts));
      } catch (error) {
        await run.rollbackAfter(error); // never hand an open transaction back to the pool
        throw error;
      }
    });
    settle(batch, outcome);
    return;
  } catch (error) {
    // Connection trouble fails the whole batch: nothing was committed, every caller hears why.
    if (error instanceof StoreUnavailableError || batch.size <= 1 || !(error instanceof StoreError)) {
      if (batch.size === 1 && batch.inserts.size === 1 && isDuplicateEntry(error)) {
        batch.rejectAll(new DuplicateMessageError([...batch.inserts.keys()][0]));
      } else {
        batch.rejectAll(error);
      }
      return;
    }
  }
  // A statement was refused (a racing duplicate, a value too long for a KiteQ varchar(255) column...):
  // replay op by op so only the guilty operation fails.
  for (const single of singleOps(batch)) await flushBatch(endpoint, table, single, kiteServer, counts);
}

/**
 * Flushes the batches of several tables in one transaction and settles every waiter; never rejects.
 * One round trip and one commit for them all: at tens of messages in flight most batches hold one
 * operation, and a commit each cost MariaDB and the broker most of their CPU (doc/mysql-store.md
 * "Batching"). When the server refuses it (a saved id stored already, a value too long...), nothing
 * was committed and each table's batch runs again alone, the careful way.
 */
export async function flushTogether(
  endpoint: MysqlEndpoint,
  parts: FlushPart[],
  kiteServer: string,
  counts: StatementCounts,
): Promise<void> {
  if (parts.length === 1) return flushBatch(endpoint, parts[0].table, parts[0].batch, kiteServer, counts);
  counts.flushes++;
  try {
    const outcomes = await endpoint.withConnection('flush', async (run) => {
      try {
        return await writeOptimistic(run, parts, kiteServer, counts);
      } catch (error) {
        await run.rollbackAfter(error); // never hand an open transaction back to the pool
        throw error;
      }
    });
    if (outcomes) {
      parts.forEach(({ batch }, i) => settle(batch, outcomes[i]));
      return;
    }
  } catch (error) {
    // Connection trouble fails the whole flush: nothing was committed, every caller hears why.
    if (error instanceof StoreUnavailableError || !(error instanceof StoreError)) {
      for (const { batch } of parts) batch.rejectAll(error);
      return;
    }
  }
  await Promise.all(parts.map(({ table, batch }) => flushBatch(endpoint, table, batch, kiteServer, counts)));
}
