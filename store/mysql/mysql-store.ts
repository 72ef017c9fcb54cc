// mysql:// — KiteQ's sharded MySQL tables (doc/architecture.md §8, §9), shared by the brokers of a cluster.
// Writes go through the BatchWriter (multi-row statements, acked only after COMMIT); reads that decide
// a delivery (get, commit, pageDue) go to the master after this message's queued writes; reads that may
// be stale (countsByTopic, listDeadLetters) go to the replica when one is configured.
import type {
  DeadLetter,
  DeadLetterQuery,
  DeliveryResult,
  DueQuery,
  GroupBacklog,
  GroupBacklogQuery,
  MessageStore,
  StoreOpenOptions,
  StoredMessage,
} from '../contract';
import { StoreUnavailableError } from '../errors';
import { GroupBacklogTally } from '../group-backlog-tally';
import type { StatementCounts } from './batch-sql';
import { BatchWriter } from './batch-writer';
import { MysqlEndpoint } from './connection';
import * as deadLetters from './dead-letters';
import { pageDue } from './due-pages';
import { type MessageRow, SELECT_COLUMN_LIST, decodeGroups, messageFromRow } from './row-codec';
import { createSchema, messageIdIndexes, missingTables, upgradeColumns } from './schema';
import { Sharding } from './sharding';
import { takeOver } from './takeover';
import type { MysqlStoreConfig } from './uri';

const nowSec = () => Math.floor(Date.now() / 1000);
/** primary keys a groupBacklog() statement covers: ~0.5 s of scan on a loaded machine, well inside queryTimeoutMs */
const GROUP_BACKLOG_IDS = 50_000;

export class MysqlStore implements MessageStore {
  readonly kind = 'mysql';
  readonly durable = true;
  readonly sharding: Sharding;
  private master: MysqlEndpoint | undefined;
  private replica: MysqlEndpoint | undefined;
  private writer: BatchWriter | undefined;

  constructor(
    readonly config: MysqlStoreConfig,
    private readonly options: StoreOpenOptions,
  ) {
    this.sharding = new Sharding(config.db, config.shardNum);
  }

  get serverName(): string {
    return this.options.serverName;
  }

  /** Connects, creates the schema when its tables are missing, adds our columns to KiteQ-made tables. */
  async start(): Promise<void> {
    const master = this.masterEndpoint();
    await master.query('start', 'SELECT 1');
    const missing = await master.withConnection('start', (run) => missingTables(run, this.sharding));
    if (missing.length > 0) await this.createSchema();
    else await master.withConnection('start', (run) => upgradeColumns(run, this.sharding));
    const indexes = await master.withConnection('start', (run) => messageIdIndexes(run, this.sharding));
    for (const ref of this.sharding.tables) {
      const index = indexes.get(`${this.sharding.databaseName(ref.shard)}.kite_msg_${ref.table}`);
      if (index) ref.byId = `${ref.qualified} FORCE INDEX (\`${index.replace(/`/g, '``')}\`)`;
    }
    if (this.config.replica && !this.replica) {
      this.replica = new MysqlEndpoint(this.config.replica, this.config, this.config.queryTimeoutMs);
    }
    this.writer = new BatchWriter(master, this.sharding, {
      batchSize: this.config.batchSize,
      flushConcurrency: this.config.flushConcurrency,
      kiteServer: this.options.serverName,
    });
  }

  /** `kiteq-server --init-schema`: databases and tables IF NOT EXISTS (schema.ts). */
  async createSchema(): Promise<void> {
    await this.masterEndpoint().withConnection('createSchema', (run) => createSchema(run, this.sharding));
  }

  async stop(): Promise<void> {
    await this.writer?.close();
    await Promise.all([this.master?.end(), this.replica?.end()]);
    this.master = this.replica = this.writer = undefined;
  }

  async save(message: StoredMessage): Promise<void> {
    return this.batches().save(message);
  }

  async saveBatch(messages: StoredMessage[]): Promise<void> {
    const writer = this.batches();
    const results = await Promise.allSettled(messages.map((m) => writer.save(m)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  async get(messageId: string): Promise<StoredMessage | undefined> {
    return (
      (await this.getLive(messageId)) ??
      deadLetters.getDeadLetter(this.masterEndpoint(), this.tableOf(messageId), messageId)
    );
  }

  async commit(messageId: string): Promise<StoredMessage | undefined> {
    await this.batches().update(messageId, { commit: true });
    return this.getLive(messageId);
  }

  async rollback(messageId: string): Promise<boolean> {
    return this.batches().remove(messageId, true);
  }

  async recordCheck(messageId: string, checkCount: number, nextDeliverTime: number): Promise<void> {
    return this.batches().update(messageId, { checkCount, nextDeliverTime });
  }

  async recordDelivery(messageId: string, result: DeliveryResult): Promise<void> {
    return this.batches().update(messageId, {
      succGroups: result.succGroups,
      failGroups: result.failGroups,
      deliverCount: result.deliverCount,
      nextDeliverTime: result.nextDeliverTime,
    });
  }

  async delete(messageId: string): Promise<void> {
    await this.batches().remove(messageId, false);
  }

  async deadLetter(messageId: string, reason: string): Promise<void> {
    await this.batches().settled(messageId);
    await deadLetters.deadLetter(this.masterEndpoint(), this.tableOf(messageId), messageId, reason, nowSec());
  }

  listDeadLetters(query: DeadLetterQuery): Promise<DeadLetter[]> {
    return deadLetters.listDeadLetters(this.staleReads(), this.sharding, query);
  }

  async redrive(messageId: string, nextDeliverTime: number): Promise<StoredMessage | undefined> {
    const moved = await deadLetters.redrive(
      this.masterEndpoint(),
      this.tableOf(messageId),
      messageId,
      nextDeliverTime,
      this.options.serverName,
    );
    return moved ? this.getLive(messageId) : undefined;
  }

  async pageDue(query: DueQuery): Promise<StoredMessage[]> {
    await this.batches().barrier(); // a just-recorded delivery must not look due again
    return pageDue(this.masterEndpoint(), this.sharding, this.options.serverName, query);
  }

  /**
   * This broker's unfinished messages per topic (KiteQ's Length(): kite_server = us), one statement
   * a table: a UNION ALL over every table neared the query timeout at ~1.6 M rows (doc/console.md).
   */
  async countsByTopic(): Promise<Record<string, number>> {
    const reads = this.staleReads();
    const counts: Record<string, number> = {};
    for (const table of this.sharding.tables) {
      const rows = await reads.query<{ topic: string; n: number }>(
        'countsByTopic',
        `SELECT topic, COUNT(*) AS n FROM ${table.qualified} WHERE kite_server = ? GROUP BY topic`,
        [this.options.serverName],
      );
      for (const row of rows) counts[row.topic] = (counts[row.topic] ?? 0) + Number(row.n);
    }
    return counts;
  }

  /**
   * GROUP BY (topic, message_type, succ_groups) over ranges of GROUP_BACKLOG_IDS primary keys, one
   * table and one range a statement, so no statement nears the query timeout whatever the table's
   * size (doc/console.md "Per-group backlog"); a few distinct rows come back per range.
   */
  async groupBacklog(query: GroupBacklogQuery): Promise<Record<string, GroupBacklog>> {
    const reads = this.staleReads();
    const tally = new GroupBacklogTally(query);
    for (const table of this.sharding.tables) {
      const [span] = await reads.query<{ lo: number | null; hi: number | null }>(
        'groupBacklog',
        `SELECT MIN(id) AS lo, MAX(id) AS hi FROM ${table.qualified}`,
      );
      if (span?.lo == null || span.hi == null) continue;
      for (let from = Number(span.lo) - 1; from < Number(span.hi); from += GROUP_BACKLOG_IDS) {
        const rows = await reads.query<{
          topic: string;
          message_type: string | null;
          succ_groups: string | null;
          n: number;
          oldest: number;
        }>(
          'groupBacklog',
          `SELECT topic, message_type, succ_groups, COUNT(*) AS n, MIN(publish_time) AS oldest
           FROM ${table.qualified}
           WHERE id > ? AND id <= ? AND kite_server = ? AND commit = 1
             AND (expired_time IS NULL OR expired_time <= 0 OR expired_time >= ?)
           GROUP BY topic, message_type, succ_groups`,
          [from, from + GROUP_BACKLOG_IDS, this.options.serverName, query.nowSec],
        );
        for (const row of rows) {
          tally.add(
            row.topic,
            row.message_type ?? '',
            decodeGroups(row.succ_groups),
            Number(row.oldest),
            Number(row.n),
          );
        }
      }
    }
    return tally.result();
  }

  /**
   * Moves this broker's messages past deliverLimit or expiredTime to kite_msg_dlq, at most `limit`;
   * returns how many. The broker calls it on a schedule, first at start (doc/architecture.md §6).
   */
  async moveExpiredToDlq(nowSeconds: number, limit = 10_000): Promise<number> {
    await this.batches().barrier();
    return deadLetters.moveExpiredToDlq(
      this.masterEndpoint(),
      this.sharding,
      this.options.serverName,
      nowSeconds,
      limit,
    );
  }

  /** doc/architecture.md §9: makes this broker the owner of a dead broker's unfinished messages; returns how many. */
  async takeOver(deadServer: string): Promise<number> {
    return takeOver(this.masterEndpoint(), this.sharding, deadServer, this.options.serverName);
  }

  /** Statements sent so far (tests, bench). */
  statementCounts(): StatementCounts {
    return { ...this.batches().counts };
  }

  private async getLive(messageId: string): Promise<StoredMessage | undefined> {
    await this.batches().settled(messageId);
    const rows = await this.masterEndpoint().query<MessageRow>(
      'get',
      `SELECT ${SELECT_COLUMN_LIST} FROM ${this.tableOf(messageId).qualified} WHERE message_id = ?`,
      [messageId],
    );
    return rows[0] && messageFromRow(rows[0]);
  }

  private tableOf(messageId: string) {
    return this.sharding.tableFor(messageId);
  }

  private masterEndpoint(): MysqlEndpoint {
    this.master ??= new MysqlEndpoint(this.config.master, this.config, this.config.queryTimeoutMs);
    return this.master;
  }

  private staleReads(): MysqlEndpoint {
    return this.replica ?? this.masterEndpoint();
  }

  private batches(): BatchWriter {
    if (!this.writer) throw new StoreUnavailableError('mysql store is not started');
    return this.writer;
  }
}
